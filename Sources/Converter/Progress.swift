// Converter progress on stderr: tensor i/N, bytes done, elapsed time and an estimate of what is left.

import Quant
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

final class Progress {
    let total: Int, count: Int, quiet: Bool
    let start = monotonicSeconds()
    /// On a terminal the line is rewritten in place; in a log every tensor gets its own line.
    let terminal = isatty(2) == 1
    var done = 0

    init(total: Int, count: Int, quiet: Bool) {
        self.total = max(total, 1)
        self.count = count
        self.quiet = quiet
    }

    func note(_ s: String) { if !quiet { printErr("note: " + printable(s)) } }

    func tensorDone(_ i: Int, _ plan: GGUFTensorPlan, sourceBytes: Int) {
        done += sourceBytes
        guard !quiet else { return }
        let elapsed = monotonicSeconds() - start
        let eta = done > 0 ? elapsed * Double(total - done) / Double(done) : 0
        let width = String(count).count
        let index = String(i + 1), pad = String(repeating: " ", count: max(0, width - index.count))
        let line = "[\(pad)\(index)/\(count)] \(plan.name) \(plan.type.name) \(plan.shape) \(formatBytes(done))/\(formatBytes(total)) "
            + "\(Int(100 * Double(done) / Double(total)))% elapsed \(formatSeconds(elapsed)) eta \(formatSeconds(eta))"
        if terminal { writeErr("\r\u{1b}[K" + printable(line)) } else { printErr(printable(line)) }
    }

    func finish(output: String, bytes: Int) {
        guard !quiet else { return }
        if terminal { writeErr("\n") }
        printErr("wrote \(output): \(count) tensors, \(formatBytes(bytes)) in \(formatSeconds(monotonicSeconds() - start))")
    }
}

func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n), u = 0
    while v >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : "\((v * 10).rounded() / 10) \(units[u])"
}

func formatSeconds(_ s: Double) -> String { "\((s * 10).rounded() / 10)s" }

public func printErr(_ s: String) { writeErr(s + "\n") }

func writeErr(_ s: String) {
    var s = s
    s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
