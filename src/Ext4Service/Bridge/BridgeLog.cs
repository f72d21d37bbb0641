using Microsoft.Extensions.Logging;

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
}
