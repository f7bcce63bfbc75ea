module github.com/apptuit-go/apptuit/bridge/gometrics

go 1.24

require github.com/apptuit-go/apptuit v0.0.0

require github.com/rcrowley/go-metrics v0.0.0-20250401214520-65e299d6c5c9

replace github.com/apptuit-go/apptuit => ../..
