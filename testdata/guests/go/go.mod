module redspin.test/guests/go

go 1.24
