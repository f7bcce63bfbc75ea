module github.com/apptuit-go/apptuit/examples/prometheus

go 1.24

require (
	github.com/apptuit-go/apptuit v0.0.0
	github.com/apptuit-go/apptuit/bridge/prometheus v0.0.0
	github.com/prometheus/client_golang v1.23.2
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.66.1 // indirect
	github.com/prometheus/procfs v0.16.1 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/sys v0.35.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

// The workspace (../../go.work) uses the modules of this repository; the
// replaces do the same when the workspace is off (GOWORK=off).
replace (
	github.com/apptuit-go/apptuit => ../..
	github.com/apptuit-go/apptuit/bridge/prometheus => ../../bridge/prometheus
)
