import Logging
import XDPKit

// The sample of the logging article (ProgramLogs.md).

func loggingForward(bytes: [UInt8], logger: Logger) throws {
  // sample: LoggingForward
  var options = LoadOptions()
  options.logLevel = ProgramLogLevel(logger.logLevel)   // what the program writes at all
  let loaded = try BPFObject(bytes: bytes).load(options: options)
  let logs = try loaded.forwardLogs(to: logger)           // drains the ring on its own task
  // …
  logs.cancel()
  // sample: end
}
