module example.com/t

go 1.24.0

require github.com/gomixin/mixin v0.0.0

require (
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/gomixin/mixin => ../..
