module github.com/apptuit-go/apptuit

go 1.24
