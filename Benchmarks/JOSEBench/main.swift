// One call into a nonisolated function (closures written here would be main-actor isolated).
JOSEBench.run(arguments: CommandLine.arguments)
