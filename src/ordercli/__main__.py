from ordercli.cli.app import main

main()
