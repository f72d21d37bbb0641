namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// One entry of a <see cref="RecordingBlockDevice"/> log: a write (byte offset and a private
/// copy of the bytes) or, when <see cref="Data"/> is null, a flush (a barrier: every write
/// logged before it is durable once it has returned).
/// </summary>
internal readonly record struct DeviceEvent(long Offset, byte[]? Data)
{
    public bool IsFlush => Data is null;

    public static DeviceEvent Flush() => new(0, null);

    public override string ToString() => IsFlush ? "flush" : $"write {Data!.Length} bytes at {Offset}";
}
