package validate_test

import (
	"context"
	"fmt"
	"reflect"

	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

var closer = validate.Spec{
	Name: "closer",
	Methods: []validate.Method{{
		Name:   "Close",
		Shapes: []reflect.Type{validate.Shape[func() error](), validate.Shape[func(context.Context) error]()},
		Hints:  []string{"Shutdown"},
	}},
}

func ExampleCheck() {
	err := validate.Check(shop.Store{}, lockSpec)
	fmt.Println(err)
	fmt.Println(validate.Check(&shop.Store{}, lockSpec))
	// Output:
	// mixin: can't compose shop.Store as lock: methods Acquire, Release, Locked have pointer receivers (compose &v, a *shop.Store)
	// <nil>
}

func ExampleMissing() {
	fmt.Println(validate.Missing(&shop.Cache{}, closer))
	fmt.Println(validate.Missing(&shop.Cache{}, lockSpec))
	// Output:
	// [Close]
	// [Acquire Release Locked]
}

func ExampleAbstractError_Format() {
	err := validate.Check(&shop.Cache{}, lockSpec, closer)
	fmt.Printf("%+v\n", err)
	// Output:
	// mixin: can't compose *shop.Cache (package github.com/gomixin/mixin/internal/shop):
	//     lock: missing abstract method Release (but does have method Unlock)
	//     lock: missing abstract method Locked
	//     lock: Acquire has signature func() int, want func(context.Context) (bool, error) or one of func(context.Context) error | func() bool | func()
	//     closer: missing abstract method Close
}
