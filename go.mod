module github.com/gomixin/mixin

go 1.24.0

require (
	github.com/modern-go/reflect2 v1.0.2
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
