using Microsoft.Extensions.Logging;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>Log lines of the bridge. Event ids 300–399 are the bridge's; never renumber.</summary>
internal static partial class BridgeLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "filesystem corruption: {Reason}")]
    public static partial void Corruption(ILogger logger, string reason);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "checksum mismatch: {Reason}")]
    public static partial void Checksum(ILogger logger, string reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "device I/O error: {Reason}")]
    public static partial void DeviceError(ILogger logger, string reason);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "unexpected failure in a request handler")]
    public static partial void Unexpected(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "FORGET of node {NodeId} for {Nlookup} lookups exceeds the lookups handed out")]
    public static partial void ForgetUnderflow(ILogger logger, ulong nodeId, ulong nlookup);

    [LoggerMessage(EventId = 305, Level = LogLevel.Information, Message = "FUSE session initialised: kernel {Major}.{Minor}, max_write {MaxWrite}")]
    public static partial void Initialised(ILogger logger, uint major, uint minor, uint maxWrite);

    [LoggerMessage(EventId = 306, Level = LogLevel.Information, Message = "FUSE_DESTROY: {Nodes} nodes still looked up, {Files} files and {Dirs} directories open")]
    public static partial void Destroyed(ILogger logger, int nodes, int files, int dirs);

    [LoggerMessage(EventId = 340, Level = LogLevel.Information, Message = "fuse-iomap: block device registered as backing id {BackingId}, block size {BlockSize}")]
    public static partial void IomapRegistered(ILogger logger, uint backingId, uint blockSize);

    [LoggerMessage(EventId = 341, Level = LogLevel.Error, Message = "fuse-iomap: FUSE_DEV_IOC_BACKING_OPEN of the block device failed: {Error}")]
    public static partial void IomapBackingOpenFailed(ILogger logger, Errno error);

    [LoggerMessage(EventId = 342, Level = LogLevel.Warning, Message = "fuse-iomap: FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE failed: {Error}; the block device keeps its block size")]
    public static partial void IomapSetBlockSizeFailed(ILogger logger, Errno error);

    [LoggerMessage(EventId = 343, Level = LogLevel.Error, Message = "fuse-iomap: IOEND of inode {Ino} reports an out-of-place (SHARED) write; ext4 writes in place")]
    public static partial void IomapSharedIoend(ILogger logger, uint ino);

    [LoggerMessage(EventId = 344, Level = LogLevel.Warning, Message = "fuse-iomap: FUSE_SHUTDOWN_FS: the block device is going away; the volume is shut down")]
    public static partial void IomapShutdown(ILogger logger);

    [LoggerMessage(EventId = 345, Level = LogLevel.Warning, Message = "fuse-iomap: FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS for inode {Ino} at {Offset}+{Length} failed: {Error}")]
    public static partial void IomapInvalFailed(ILogger logger, uint ino, ulong offset, ulong length, Errno error);

    [LoggerMessage(EventId = 346, Level = LogLevel.Warning, Message = "fuse-iomap: FUSE_NOTIFY_IOMAP_DEV_INVAL for blocks {Start}+{Count} failed: {Error}")]
    public static partial void IomapDevInvalFailed(ILogger logger, ulong start, ulong count, Errno error);

    [LoggerMessage(EventId = 347, Level = LogLevel.Warning, Message = "fuse-iomap: FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS for inode {Ino} at {Offset}+{Length} failed: {Error}")]
    public static partial void IomapUpsertFailed(ILogger logger, uint ino, ulong offset, ulong length, Errno error);
}
