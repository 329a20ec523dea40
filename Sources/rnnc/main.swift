import RNNCommands
RNNCommand.main()
