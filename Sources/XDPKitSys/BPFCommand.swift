import CXDPKit

/// A bpf(2) command: the first argument of the system call.
///
/// The raw values come from `enum bpf_cmd` in the kernel's uapi header `linux/bpf.h`, so they
/// match the kernel the headers describe; the description is the uapi name ("BPF_MAP_CREATE"),
/// which is how errors name the command that failed.
public enum BPFCommand: Sendable, Hashable, CaseIterable, CustomStringConvertible {
  case mapCreate
  case mapLookupElement
  case mapUpdateElement
  case mapDeleteElement
  case mapGetNextKey
  case programLoad
  case objectPin
  case objectGet
  case programAttach
  case programDetach
  case programTestRun
  case programGetNextID
  case mapGetNextID
  case programGetFDByID
  case mapGetFDByID
  case objectGetInfoByFD
  case programQuery
  case rawTracepointOpen
  case btfLoad
  case btfGetFDByID
  case taskFDQuery
  case mapLookupAndDeleteElement
  case mapFreeze
  case btfGetNextID
  case mapLookupBatch
  case mapLookupAndDeleteBatch
  case mapUpdateBatch
  case mapDeleteBatch
  case linkCreate
  case linkUpdate
  case linkGetFDByID
  case linkGetNextID
  case enableStats
  case iterCreate
  case linkDetach
  case programBindMap

  /// The value of the command in `enum bpf_cmd`.
  public var rawValue: UInt32 { uapi.rawValue }

  /// Creates the command whose `enum bpf_cmd` value is `rawValue`, or `nil` for a command this
  /// library does not know.
  public init?(rawValue: UInt32) {
    guard let match = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
    self = match
  }

  /// The command as the C enum, for the call itself.
  @usableFromInline
  var uapi: bpf_cmd {
    switch self {
    case .mapCreate: BPF_MAP_CREATE
    case .mapLookupElement: BPF_MAP_LOOKUP_ELEM
    case .mapUpdateElement: BPF_MAP_UPDATE_ELEM
    case .mapDeleteElement: BPF_MAP_DELETE_ELEM
    case .mapGetNextKey: BPF_MAP_GET_NEXT_KEY
    case .programLoad: BPF_PROG_LOAD
    case .objectPin: BPF_OBJ_PIN
    case .objectGet: BPF_OBJ_GET
    case .programAttach: BPF_PROG_ATTACH
    case .programDetach: BPF_PROG_DETACH
    case .programTestRun: BPF_PROG_TEST_RUN
    case .programGetNextID: BPF_PROG_GET_NEXT_ID
    case .mapGetNextID: BPF_MAP_GET_NEXT_ID
    case .programGetFDByID: BPF_PROG_GET_FD_BY_ID
    case .mapGetFDByID: BPF_MAP_GET_FD_BY_ID
    case .objectGetInfoByFD: BPF_OBJ_GET_INFO_BY_FD
    case .programQuery: BPF_PROG_QUERY
    case .rawTracepointOpen: BPF_RAW_TRACEPOINT_OPEN
    case .btfLoad: BPF_BTF_LOAD
    case .btfGetFDByID: BPF_BTF_GET_FD_BY_ID
    case .taskFDQuery: BPF_TASK_FD_QUERY
    case .mapLookupAndDeleteElement: BPF_MAP_LOOKUP_AND_DELETE_ELEM
    case .mapFreeze: BPF_MAP_FREEZE
    case .btfGetNextID: BPF_BTF_GET_NEXT_ID
    case .mapLookupBatch: BPF_MAP_LOOKUP_BATCH
    case .mapLookupAndDeleteBatch: BPF_MAP_LOOKUP_AND_DELETE_BATCH
    case .mapUpdateBatch: BPF_MAP_UPDATE_BATCH
    case .mapDeleteBatch: BPF_MAP_DELETE_BATCH
    case .linkCreate: BPF_LINK_CREATE
    case .linkUpdate: BPF_LINK_UPDATE
    case .linkGetFDByID: BPF_LINK_GET_FD_BY_ID
    case .linkGetNextID: BPF_LINK_GET_NEXT_ID
    case .enableStats: BPF_ENABLE_STATS
    case .iterCreate: BPF_ITER_CREATE
    case .linkDetach: BPF_LINK_DETACH
    case .programBindMap: BPF_PROG_BIND_MAP
    }
  }

  /// The uapi name of the command, for example "BPF_MAP_CREATE".
  public var description: String {
    switch self {
    case .mapCreate: "BPF_MAP_CREATE"
    case .mapLookupElement: "BPF_MAP_LOOKUP_ELEM"
    case .mapUpdateElement: "BPF_MAP_UPDATE_ELEM"
    case .mapDeleteElement: "BPF_MAP_DELETE_ELEM"
    case .mapGetNextKey: "BPF_MAP_GET_NEXT_KEY"
    case .programLoad: "BPF_PROG_LOAD"
    case .objectPin: "BPF_OBJ_PIN"
    case .objectGet: "BPF_OBJ_GET"
    case .programAttach: "BPF_PROG_ATTACH"
    case .programDetach: "BPF_PROG_DETACH"
    case .programTestRun: "BPF_PROG_TEST_RUN"
    case .programGetNextID: "BPF_PROG_GET_NEXT_ID"
    case .mapGetNextID: "BPF_MAP_GET_NEXT_ID"
    case .programGetFDByID: "BPF_PROG_GET_FD_BY_ID"
    case .mapGetFDByID: "BPF_MAP_GET_FD_BY_ID"
    case .objectGetInfoByFD: "BPF_OBJ_GET_INFO_BY_FD"
    case .programQuery: "BPF_PROG_QUERY"
    case .rawTracepointOpen: "BPF_RAW_TRACEPOINT_OPEN"
    case .btfLoad: "BPF_BTF_LOAD"
    case .btfGetFDByID: "BPF_BTF_GET_FD_BY_ID"
    case .taskFDQuery: "BPF_TASK_FD_QUERY"
    case .mapLookupAndDeleteElement: "BPF_MAP_LOOKUP_AND_DELETE_ELEM"
    case .mapFreeze: "BPF_MAP_FREEZE"
    case .btfGetNextID: "BPF_BTF_GET_NEXT_ID"
    case .mapLookupBatch: "BPF_MAP_LOOKUP_BATCH"
    case .mapLookupAndDeleteBatch: "BPF_MAP_LOOKUP_AND_DELETE_BATCH"
    case .mapUpdateBatch: "BPF_MAP_UPDATE_BATCH"
    case .mapDeleteBatch: "BPF_MAP_DELETE_BATCH"
    case .linkCreate: "BPF_LINK_CREATE"
    case .linkUpdate: "BPF_LINK_UPDATE"
    case .linkGetFDByID: "BPF_LINK_GET_FD_BY_ID"
    case .linkGetNextID: "BPF_LINK_GET_NEXT_ID"
    case .enableStats: "BPF_ENABLE_STATS"
    case .iterCreate: "BPF_ITER_CREATE"
    case .linkDetach: "BPF_LINK_DETACH"
    case .programBindMap: "BPF_PROG_BIND_MAP"
    }
  }
}
