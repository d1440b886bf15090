import GatewayCore

// Keep this file to one call: closures written here would be main-actor isolated and
// trap when another thread runs them (see PLATFORM.md).
Gateway.main()
