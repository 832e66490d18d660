import XDPKitMaps
import XDPKitObject
import XDPKitSys

// Creating the object's maps, or reusing the ones pinned by name.

extension Loader {
  // MARK: Maps

  mutating func createMap(_ declared: BPFMapDefinition) throws(LoadError) {
    var declared = declared
    if let value = options.maxEntries[declared.name] { declared.maxEntries = value }
    if let value = options.mapFlags[declared.name] { declared.flags = value }
    let (definition, changes) = MapFixups.apply(to: declared)
    for change in changes { notes.append("map \(definition.name): \(change)") }
    var maxEntries = definition.maxEntries
    let flags = definition.flags
    if maxEntries == 0 && !MapFixups.isLocalStorage(definition.type) {
      if definition.type == .perfEventArray {
        // One slot per possible CPU, as perf event arrays are used.
        guard let cpus = try? SystemInfo.possibleCPUCount() else {
          throw .missingMaxEntries(map: definition.name)
        }
        maxEntries = UInt32(clamping: cpus)
      } else {
        throw .missingMaxEntries(map: definition.name)
      }
    }

    var pinning: BPFFSDirectory? = nil
    if definition.pinning == .byName, let path = options.pinDirectory {
      guard !definition.name.contains("/"), !definition.name.contains("."), !definition.name.isEmpty else {
        throw .invalidPinName(map: definition.name)
      }
      let directory = try openPinDirectory(path, for: definition.name)
      pinning = directory
      if let existing = try reusePinnedMap(definition, in: directory, maxEntries: maxEntries, flags: flags) {
        maps[definition.name] = existing
        notes.append("map \(definition.name): reusing the map pinned at \(directory.pathOf(definition.name))")
        return
      }
    }

    var attributes = MapCreateAttributes(
      type: definition.type, keySize: definition.keySize, valueSize: definition.valueSize,
      maxEntries: maxEntries, flags: MapCreateFlags(rawValue: flags), name: definition.name)
    if definition.numaNode != 0 { attributes.numaNode = definition.numaNode }
    attributes.mapExtra = definition.mapExtra

    // A map-in-map needs a template inner map for the duration of the create call.
    var innerTemplate: BPFFileDescriptor? = nil
    if let inner = definition.innerMap {
      let innerAttributes = MapCreateAttributes(
        type: inner.type, keySize: inner.keySize, valueSize: inner.valueSize,
        maxEntries: inner.maxEntries, flags: MapCreateFlags(rawValue: inner.flags),
        name: String((definition.name + "_inner").prefix(15)))
      do { innerTemplate = try BPF.createMap(innerAttributes) } catch {
        throw .mapCreation(map: definition.name + " (inner map template)", error)
      }
      attributes.innerMap = innerTemplate
    }

    let fd: BPFFileDescriptor
    // A map without keys (queue, stack, bloom filter) takes its value type with key type 0.
    if let btf, let value = definition.valueTypeID, definition.keySize == 0 || definition.keyTypeID != nil {
      var withBTF = attributes
      withBTF.btf = btf
      withBTF.btfKeyTypeID = definition.keySize == 0 ? 0 : definition.keyTypeID ?? 0
      withBTF.btfValueTypeID = value
      do {
        fd = try BPF.createMap(withBTF)
      } catch {
        // Some map types (program arrays, map-in-maps on older kernels) refuse BTF key/value
        // types; such maps work the same without them.
        do { fd = try BPF.createMap(attributes) } catch { throw .mapCreation(map: definition.name, error) }
        notes.append("map \(definition.name): created without BTF types (\(error.errno))")
      }
    } else {
      do { fd = try BPF.createMap(attributes) } catch { throw .mapCreation(map: definition.name, error) }
    }
    withExtendedLifetime(innerTemplate) {}

    let map = BPFMap(fileDescriptor: fd, name: definition.name, type: definition.type,
                     keySize: Int(definition.keySize), valueSize: Int(definition.valueSize),
                     maxEntries: Int(maxEntries), flags: flags)
    if let pinning {
      do { try pinning.pin(fd, as: definition.name) } catch {
        throw .pinning(map: definition.name, path: pinning.pathOf(definition.name), error)
      }
      createdPins.append(definition.name)
    }
    maps[definition.name] = map
  }

  /// The pin directory, opened (and created, mode 0700) through ``BPFFSDirectory`` once.
  mutating func openPinDirectory(_ path: String, for map: String) throws(LoadError) -> BPFFSDirectory {
    if let pinDirectory { return pinDirectory }
    do {
      let directory = try BPFFSDirectory.open(path, create: true)
      pinDirectory = directory
      return directory
    } catch {
      throw .pinning(map: map, path: path, error)
    }
  }

  /// Opens the map pinned in `directory` under the map's name if there is one and it matches
  /// the definition; `nil` if nothing is pinned there. A pinned map that differs is an error
  /// naming the field; a pinned object that is not a map is an error naming its kind.
  func reusePinnedMap(_ definition: BPFMapDefinition, in directory: BPFFSDirectory, maxEntries: UInt32,
                      flags: UInt32) throws(LoadError) -> BPFMap? {
    let path = directory.pathOf(definition.name)
    let fd: BPFFileDescriptor
    do { fd = try directory.openPinned(definition.name, kind: .map) } catch {
      if case .noSuchObject = error { return nil }
      throw .pinning(map: definition.name, path: path, error)
    }
    let info: MapInfo
    do { info = try BPF.mapInfo(fd) } catch {
      throw .pinning(map: definition.name, path: path, .syscall(path: path, error))
    }
    let checks: [(String, UInt64, UInt64)] = [
      ("type", UInt64(definition.type.rawValue), UInt64(info.type.rawValue)),
      ("key_size", UInt64(definition.keySize), UInt64(info.keySize)),
      ("value_size", UInt64(definition.valueSize), UInt64(info.valueSize)),
      ("max_entries", UInt64(maxEntries), UInt64(info.maxEntries)),
      ("map_flags", UInt64(flags), UInt64(info.flags.rawValue)),
      // A bloom filter's number of hash functions, say: another value is another map.
      ("map_extra", definition.mapExtra, info.mapExtra),
    ]
    for (field, expected, actual) in checks where expected != actual {
      throw .pinnedMapMismatch(map: definition.name, path: path, field: field, expected: expected, actual: actual)
    }
    return BPFMap(fileDescriptor: fd, name: definition.name, type: info.type, keySize: Int(info.keySize),
                  valueSize: Int(info.valueSize), maxEntries: Int(info.maxEntries), flags: info.flags.rawValue)
  }
}
