import Foundation
import RNNCommands

if let message = RNNCommand.mistypedSubcommand(Array(CommandLine.arguments.dropFirst())) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(64)
}
RNNCommand.main()
