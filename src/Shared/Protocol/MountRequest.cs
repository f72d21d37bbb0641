using Safemount.Shared.Interop;

namespace Safemount.Shared.Protocol;

/// <summary>
/// MOUNT_REQUEST: what to mount and the device fd. Body: u32 flags (bit 0 read-only, bit 1 a
/// DIRECT_DEVICE message follows), u64 device_size (bytes), string source, string mountpoint
/// (≤ MaxPathBytes each), string options (≤ MaxOptionsBytes); exactly one fd (SCM_RIGHTS), the
/// device. With bit 1 the next message is DIRECT_DEVICE: no body, exactly one fd, the same device
/// opened O_RDWR|O_DIRECT. Owns <see cref="Device"/> and <see cref="DirectDevice"/>: disposing the
/// request closes them.
/// </summary>
public sealed class MountRequest : IDisposable
{
    public MountRequest(string sourcePath, string mountpoint, string options, bool readOnly, ulong deviceSize, SafeFd device, SafeFd? directDevice = null)
    {
        if (readOnly && directDevice is not null)
        {
            throw new ArgumentException("a read-only mount takes no direct-I/O device fd", nameof(directDevice));
        }

        SourcePath = sourcePath;
        Mountpoint = mountpoint;
        Options = options;
        ReadOnly = readOnly;
        DeviceSize = deviceSize;
        Device = device;
        DirectDevice = directDevice;
    }

    /// <summary>The source as the user named it; for messages only, never opened by the service.</summary>
    public string SourcePath { get; }

    /// <summary>The mountpoint path; for messages only.</summary>
    public string Mountpoint { get; }

    /// <summary>Comma-separated fs options the helper did not consume; the service rejects what it does not know.</summary>
    public string Options { get; }

    public bool ReadOnly { get; }

    /// <summary>Device size in bytes as the helper measured it (BLKGETSIZE64); the service re-measures.</summary>
    public ulong DeviceSize { get; }

    /// <summary>The block device (or, in tests, a regular file), checked by fstat on receipt.</summary>
    public SafeFd Device { get; }

    /// <summary>
    /// A second fd of <see cref="Device"/> opened O_RDWR|O_DIRECT, for file data writes that
    /// bypass the page cache; null when none was sent (read-only, capability not agreed, or the
    /// device refused O_DIRECT). Checked on receipt: same device, O_DIRECT set, writable.
    /// </summary>
    public SafeFd? DirectDevice { get; private set; }

    internal MountRequestFlags Flags =>
        (ReadOnly ? MountRequestFlags.ReadOnly : MountRequestFlags.None)
        | (DirectDevice is null ? MountRequestFlags.None : MountRequestFlags.DirectDevice);

    internal void EncodeBody(MessageWriter w)
    {
        w.WriteUInt32((uint)Flags);
        w.WriteUInt64(DeviceSize);
        w.WriteString(SourcePath, ProtocolLimits.MaxPathBytes);
        w.WriteString(Mountpoint, ProtocolLimits.MaxPathBytes);
        w.WriteString(Options, ProtocolLimits.MaxOptionsBytes);
    }

    /// <summary>
    /// Decodes the body; takes ownership of <paramref name="device"/> only on success.
    /// <paramref name="directFollows"/> reports bit 1: the caller must then receive DIRECT_DEVICE
    /// and hand its fd to <see cref="AttachDirectDevice"/>.
    /// </summary>
    internal static MountRequest Decode(ref MessageReader r, SafeFd device, out bool directFollows)
    {
        uint flags = r.ReadUInt32("flags");
        if ((flags & ~(uint)MountRequestFlags.Known) != 0)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"malformed MountRequest message: reserved flags 0x{flags:x}");
        }

        bool readOnly = (flags & (uint)MountRequestFlags.ReadOnly) != 0;
        directFollows = (flags & (uint)MountRequestFlags.DirectDevice) != 0;
        if (readOnly && directFollows)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedMessage, "malformed MountRequest message: a read-only mount takes no direct-I/O device");
        }

        ulong size = r.ReadUInt64("device_size");
        string source = r.ReadString(ProtocolLimits.MaxPathBytes, "source");
        string mountpoint = r.ReadString(ProtocolLimits.MaxPathBytes, "mountpoint");
        string options = r.ReadString(ProtocolLimits.MaxOptionsBytes, "options");
        r.EnsureEnd();
        return new MountRequest(source, mountpoint, options, readOnly, size, device);
    }

    /// <summary>Takes ownership of the checked DIRECT_DEVICE fd (once, read-write requests only).</summary>
    internal void AttachDirectDevice(SafeFd direct)
    {
        if (ReadOnly || DirectDevice is not null)
        {
            throw new InvalidOperationException("the direct-I/O device is attached once, to a read-write request");
        }

        DirectDevice = direct;
    }

    public void Dispose()
    {
        Device.Dispose();
        DirectDevice?.Dispose();
    }
}
