// The umbrella module: `import XDPKit` brings in the reader, the syscall layer and the maps.
@_exported import XDPKitObject
@_exported import XDPKitSys
@_exported import XDPKitMaps
