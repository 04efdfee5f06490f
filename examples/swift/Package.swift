// swift-tools-version:6.0
// An example Swift package using Swiftlet's Swift library: it depends on the project by path.
import PackageDescription

let package = Package(
    name: "SwiftletExample",
    // name: otherwise the dependency is known by its directory's name, which depends on the clone.
    dependencies: [.package(name: "Swiftlet", path: "../..")],
    targets: [
        .executableTarget(name: "SwiftletExample", dependencies: [.product(name: "SwiftletKit", package: "Swiftlet")]),
    ]
)
