// Package health is a plugin of a kind the host declares itself: anything
// with Check(ctx) error.
package health

import (
	"context"
	"errors"
)

// Database checks a database connection.
type Database struct{ Up bool }

// Check reports whether the database answers.
func (d Database) Check(context.Context) error {
	if !d.Up {
		return errors.New("database: no answer")
	}
	return nil
}
