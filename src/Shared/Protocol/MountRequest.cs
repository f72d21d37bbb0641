using Safemount.Shared.Interop;

namespace Safemount.Shared.Protocol;

/// <summary>
/// MOUNT_REQUEST: what to mount and the device fd. Body: u32 flags (bit 0 read-only),
/// u64 device_size (bytes), string source, string mountpoint (≤ MaxPathBytes each),
/// string options (≤ MaxOptionsBytes); exactly one fd (SCM_RIGHTS), the device.
/// Owns <see cref="Device"/>: disposing the request closes it.
/// </summary>
public sealed class MountRequest : IDisposable
{
    public MountRequest(string sourcePath, string mountpoint, string options, bool readOnly, ulong deviceSize, SafeFd device)
    {
        SourcePath = sourcePath;
        Mountpoint = mountpoint;
        Options = options;
        ReadOnly = readOnly;
        DeviceSize = deviceSize;
        Device = device;
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

    internal void EncodeBody(MessageWriter w)
    {
        w.WriteUInt32((uint)(ReadOnly ? MountRequestFlags.ReadOnly : MountRequestFlags.None));
        w.WriteUInt64(DeviceSize);
        w.WriteString(SourcePath, ProtocolLimits.MaxPathBytes);
        w.WriteString(Mountpoint, ProtocolLimits.MaxPathBytes);
        w.WriteString(Options, ProtocolLimits.MaxOptionsBytes);
    }

    /// <summary>Decodes the body; takes ownership of <paramref name="device"/> only on success.</summary>
    internal static MountRequest Decode(ref MessageReader r, SafeFd device)
    {
        uint flags = r.ReadUInt32("flags");
        if ((flags & ~(uint)MountRequestFlags.Known) != 0)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"malformed MountRequest message: reserved flags 0x{flags:x}");
        }

        ulong size = r.ReadUInt64("device_size");
        string source = r.ReadString(ProtocolLimits.MaxPathBytes, "source");
        string mountpoint = r.ReadString(ProtocolLimits.MaxPathBytes, "mountpoint");
        string options = r.ReadString(ProtocolLimits.MaxOptionsBytes, "options");
        r.EnsureEnd();
        return new MountRequest(source, mountpoint, options, (flags & (uint)MountRequestFlags.ReadOnly) != 0, size, device);
    }

    public void Dispose() => Device.Dispose();
}
