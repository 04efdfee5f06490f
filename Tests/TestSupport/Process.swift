// Running the built command-line tools from tests: where they are, and what a run printed.

import Foundation

/// The built `swiftlet` executable, next to the test bundle.
public func builtExecutable(_ name: String) -> String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
}

public struct Run {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let seconds: Double
}

/// Runs `executable` with `args`, `input` on its stdin (none: stdin at end of file), to completion or until
/// `timeout` seconds have passed (then it is killed: status -SIGKILL); `environment` adds variables.
public func run(_ executable: String, _ args: [String], input: String = "", timeout: Double = 600,
                environment: [String: String] = [:]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe(), stdin = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = stdin
    let start = Date()
    try p.run()
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationReason == .exit ? p.terminationStatus : -p.terminationStatus,
               stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
               seconds: Date().timeIntervalSince(start))
}

/// A value behind an NSLock, for tests' shared tables. Not Synchronization's Mutex: ThreadSanitizer follows pthread
/// locks but not Mutex's futex, and reported the guarded accesses as races (tools/sanitize.sh).
public final class Locked<Value>: @unchecked Sendable {  // `value` is touched only holding `lock`
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
