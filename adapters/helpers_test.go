package adapters_test

import "fmt"

func sprintfPlus(v any) string { return fmt.Sprintf("%+v", v) }
