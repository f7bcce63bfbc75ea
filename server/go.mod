module github.com/apptuit-go/apptuit/server

go 1.26.7

require github.com/apptuit-go/apptuit v0.0.0
