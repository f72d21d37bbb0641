using Microsoft.Extensions.Logging;

namespace Safemount.Ext4Service.Hosting;

/// <summary>Log lines of the service host. Event ids 100–199 are the host's; never renumber.</summary>
internal static partial class ServiceLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "helper connected: protocol version {Version}")]
    public static partial void Connected(ILogger logger, uint version);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "mount request: {Source} on {Mountpoint}, options '{Options}', {Mode}, device {DeviceSize} bytes")]
    public static partial void MountRequested(ILogger logger, string source, string mountpoint, string options, string mode, ulong deviceSize);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "mount refused: {Source}: {Reason}")]
    public static partial void MountRefused(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "volume opened: {Source}, label '{Label}', uuid {Uuid}, block size {BlockSize}, {Mode}, metadata cache {CacheKiB} KiB")]
    public static partial void VolumeOpened(ILogger logger, string source, string label, Guid uuid, uint blockSize, string mode, long cacheKiB);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "{Source}: {Warning}")]
    public static partial void VolumeWarning(ILogger logger, string source, string warning);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "mounted: {Source} on {Mountpoint} is ready")]
    public static partial void Ready(ILogger logger, string source, string mountpoint);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "helper aborted the mount: {Reason}")]
    public static partial void Aborted(ILogger logger, string reason);

    [LoggerMessage(EventId = 107, Level = LogLevel.Information, Message = "session ended: {Source} unmounted")]
    public static partial void SessionEnded(ILogger logger, string source);

    [LoggerMessage(EventId = 108, Level = LogLevel.Error, Message = "setup failed: {Reason}")]
    public static partial void SetupFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 109, Level = LogLevel.Error, Message = "unexpected failure")]
    public static partial void Crashed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "{Source}: released {Count} orphan inode(s) left by an earlier mount")]
    public static partial void OrphansReleased(ILogger logger, string source, int count);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information, Message = "{Source}: file data writes use O_DIRECT for aligned ranges (alignment {Alignment} bytes)")]
    public static partial void DirectIoOn(ILogger logger, string source, int alignment);

    [LoggerMessage(EventId = 112, Level = LogLevel.Information, Message = "{Source}: the O_DIRECT fd is not used: {Reason}")]
    public static partial void DirectIoUnused(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 113, Level = LogLevel.Warning, Message = "{Source}: direct I/O turned off: {Reason}")]
    public static partial void DirectIoOff(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 114, Level = LogLevel.Information, Message = "{Source}: file data written: {DirectBytes} bytes with O_DIRECT, {BufferedBytes} bytes through the page cache")]
    public static partial void DirectIoTotals(ILogger logger, string source, long directBytes, long bufferedBytes);

    [LoggerMessage(EventId = 115, Level = LogLevel.Debug, Message = "setup times (each step, in parentheses since Main): {Times}")]
    public static partial void SetupTimes(ILogger logger, string times);
}
