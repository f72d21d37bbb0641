using Microsoft.Extensions.Logging;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>Every log line of the FUSE layer. Event ids 1100-1199 are stable.</summary>
internal static partial class FuseLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "FUSE kernel protocol {Major}.{Minor}, max_readahead {MaxReadahead}; replying 7.{ReplyMinor}")]
    public static partial void KernelVersion(ILogger logger, uint major, uint minor, uint maxReadahead, uint replyMinor);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "FUSE_INIT offered flags 0x{Flags:X16}: {Names}")]
    public static partial void OfferedFlags(ILogger logger, ulong flags, string names);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "FUSE_INIT taken flags 0x{Flags:X16}: {Names}")]
    public static partial void TakenFlags(ILogger logger, ulong flags, string names);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "FUSE_INIT max_write {MaxWrite}, max_pages {MaxPages}")]
    public static partial void Limits(ILogger logger, uint maxWrite, ushort maxPages);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Error, Message = "FUSE_INIT refused: kernel protocol major {Major}, this server speaks 7")]
    public static partial void InitRefused(ILogger logger, uint major);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning, Message = "Dropped a {Length}-byte read from /dev/fuse: shorter than fuse_in_header")]
    public static partial void ShortRequestDropped(ILogger logger, int length);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "Malformed FUSE request {Opcode} unique {Unique}: {Reason}")]
    public static partial void MalformedRequest(ILogger logger, FuseOpcode opcode, ulong unique, string reason);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Error, Message = "FUSE request {Opcode} unique {Unique} left unanswered by its handler; replying EIO")]
    public static partial void Unanswered(ILogger logger, FuseOpcode opcode, ulong unique);

    [LoggerMessage(EventId = 1113, Level = LogLevel.Warning, Message = "Reply to FUSE request unique {Unique} failed: {Error}")]
    public static partial void ReplyFailed(ILogger logger, ulong unique, Errno error);

    [LoggerMessage(EventId = 1114, Level = LogLevel.Error, Message = "read() on /dev/fuse failed: {Error}; stopping the session")]
    public static partial void DeviceReadFailed(ILogger logger, Errno error);

    [LoggerMessage(EventId = 1115, Level = LogLevel.Debug, Message = "FUSE request {Opcode} unique {Unique} threw; replying {Error}")]
    public static partial void HandlerThrew(ILogger logger, Exception exception, FuseOpcode opcode, ulong unique, Errno error);

    [LoggerMessage(EventId = 1116, Level = LogLevel.Information, Message = "FUSE session ended: {Reason}")]
    public static partial void SessionEnded(ILogger logger, string reason);

    [LoggerMessage(EventId = 1117, Level = LogLevel.Debug, Message = "Unsupported FUSE opcode {Opcode} unique {Unique}; replying ENOSYS")]
    public static partial void Unsupported(ILogger logger, FuseOpcode opcode, ulong unique);

    [LoggerMessage(EventId = 1118, Level = LogLevel.Error, Message = "File system callback {Callback} threw")]
    public static partial void CallbackThrew(ILogger logger, Exception exception, string callback);

    [LoggerMessage(EventId = 1119, Level = LogLevel.Warning, Message = "FUSE request {Opcode} unique {Unique} before FUSE_INIT or after the session stopped; replying EIO")]
    public static partial void BeforeInit(ILogger logger, FuseOpcode opcode, ulong unique);

    [LoggerMessage(EventId = 1120, Level = LogLevel.Critical, Message = "FUSE worker thread failed")]
    public static partial void WorkerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1121, Level = LogLevel.Error, Message = "File system returned an invalid result for {Opcode} unique {Unique}: {Reason}; replying EIO")]
    public static partial void InvalidResult(ILogger logger, FuseOpcode opcode, ulong unique, string reason);

    [LoggerMessage(EventId = 1122, Level = LogLevel.Error, Message = "File system answered FUSE_IOMAP_CONFIG with block size {BlockSize}, time granularity {TimeGranularityNs} ns, maxbytes {MaxBytes}; replying EIO")]
    public static partial void IomapConfigInvalid(ILogger logger, uint blockSize, uint timeGranularityNs, long maxBytes);

    [LoggerMessage(EventId = 1123, Level = LogLevel.Error, Message = "File system answered FUSE_IOMAP_BEGIN for node {NodeId} pos {Pos} with a mapping the kernel would refuse: {Reason}; replying EIO")]
    public static partial void IomapMappingInvalid(ILogger logger, ulong nodeId, ulong pos, string reason);

    [LoggerMessage(EventId = 1124, Level = LogLevel.Error, Message = "File system pushed a mapping for node {NodeId} at offset {Offset} that the kernel would refuse: {Reason}; not sent")]
    public static partial void IomapUpsertInvalid(ILogger logger, ulong nodeId, ulong offset, string reason);
}
