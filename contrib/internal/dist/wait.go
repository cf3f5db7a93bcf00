package dist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Says reports whether err tells more than that time ran out: a deadline,
// a cancellation or an I/O timeout is the ctx's doing; a refused
// connection or the server's own error is worth keeping as the last error
// of a wait.
func Says(err error) bool {
	var nerr net.Error
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &nerr) && nerr.Timeout():
		return false
	}
	return true
}

// Over reports whether ctx has ended, or its deadline passed a moment
// before its timer says so.
func Over(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// Ended is the error of a wait whose ctx ended: ctx's, with the last error
// the server (named server: "redis") gave beside it.
func Ended(ctx context.Context, last error, server string) error {
	cerr := ctx.Err()
	if cerr == nil {
		cerr = context.DeadlineExceeded
	}
	if last == nil || errors.Is(last, cerr) {
		return cerr
	}
	return fmt.Errorf("%w (last error from %s: %w)", cerr, server, last)
}
