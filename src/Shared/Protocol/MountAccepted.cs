namespace Safemount.Shared.Protocol;

/// <summary>
/// MOUNT_ACCEPTED: the service's mount parameters. Body: u32 flags (bit 0 read-only forced),
/// u32 rootmode (st_mode of the root, S_IFDIR|perm), u32 blksize (bytes), string fs_type,
/// string subtype (≤ MaxFsTypeBytes), string label (≤ MaxLabelBytes), 16 bytes uuid,
/// u32 warning_count (≤ MaxWarnings), warning_count × string (≤ MaxWarningBytes).
/// The helper accepts these values only through its allowlist.
/// </summary>
public sealed record MountAccepted
{
    public string FsType { get; init; } = "fuseblk";

    public string Subtype { get; init; } = "safe.ext4";

    /// <summary>st_mode of the root directory, e.g. 0x41ED (040755).</summary>
    public uint RootMode { get; init; } = 0x41ED;

    /// <summary>Filesystem block size in bytes (fuseblk blksize=).</summary>
    public uint BlockSize { get; init; } = 4096;

    public string Label { get; init; } = string.Empty;

    /// <summary>s_uuid, 16 bytes exactly.</summary>
    public byte[] Uuid { get; init; } = new byte[ProtocolLimits.UuidBytes];

    /// <summary>True when the service mounts read-only (asked, or forced by an RO_COMPAT feature).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>One-line notes the helper prints (e.g. "journal replayed").</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    internal void EncodeBody(MessageWriter w)
    {
        if (Uuid.Length != ProtocolLimits.UuidBytes || Warnings.Count > ProtocolLimits.MaxWarnings)
        {
            throw new ArgumentException("uuid must be 16 bytes and warnings at most MaxWarnings");
        }

        w.WriteUInt32((uint)(ReadOnly ? MountRequestFlags.ReadOnly : MountRequestFlags.None));
        w.WriteUInt32(RootMode);
        w.WriteUInt32(BlockSize);
        w.WriteString(FsType, ProtocolLimits.MaxFsTypeBytes);
        w.WriteString(Subtype, ProtocolLimits.MaxFsTypeBytes);
        w.WriteString(Label, ProtocolLimits.MaxLabelBytes);
        w.WriteBytes(Uuid);
        w.WriteUInt32((uint)Warnings.Count);
        foreach (string warning in Warnings)
        {
            w.WriteString(warning, ProtocolLimits.MaxWarningBytes);
        }
    }

    internal static MountAccepted Decode(ref MessageReader r)
    {
        uint flags = r.ReadUInt32("flags");
        if ((flags & ~(uint)MountRequestFlags.ReadOnly) != 0)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"malformed MountAccepted message: reserved flags 0x{flags:x}");
        }

        uint rootMode = r.ReadUInt32("rootmode");
        uint blockSize = r.ReadUInt32("blksize");
        string fsType = r.ReadString(ProtocolLimits.MaxFsTypeBytes, "fs_type");
        string subtype = r.ReadString(ProtocolLimits.MaxFsTypeBytes, "subtype");
        string label = TextSanitizer.OneLine(r.ReadString(ProtocolLimits.MaxLabelBytes, "label"));
        byte[] uuid = r.ReadBytes(ProtocolLimits.UuidBytes, "uuid");
        uint count = r.ReadUInt32("warning_count");
        if (count > ProtocolLimits.MaxWarnings)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"malformed MountAccepted message: {count} warnings, limit {ProtocolLimits.MaxWarnings}");
        }

        string[] warnings = new string[count];
        for (int i = 0; i < warnings.Length; i++)
        {
            warnings[i] = TextSanitizer.OneLine(r.ReadString(ProtocolLimits.MaxWarningBytes, "warning"));
        }

        r.EnsureEnd();
        return new MountAccepted
        {
            FsType = fsType,
            Subtype = subtype,
            RootMode = rootMode,
            BlockSize = blockSize,
            Label = label,
            Uuid = uuid,
            ReadOnly = (flags & (uint)MountRequestFlags.ReadOnly) != 0,
            Warnings = warnings,
        };
    }
}
