from ordercli.entry import main

main()
