from ordercli.entry import console

console()
