namespace Safemount.Shared.Protocol;

/// <summary>The optional flags u32 of FUSE_FD (docs/PROTOCOL.md). Sent only when nonzero, so a
/// FUSE_FD without iomap is byte-identical to protocol version 1 as first released.</summary>
[Flags]
public enum FuseFdFlags : uint
{
    None = 0,

    /// <summary>FUSE_DEV_IOC_ADD_IOMAP succeeded on this /dev/fuse fd before mount: a fuse-iomap
    /// kernel will offer FUSE_IOMAP in INIT (FUSE-PROTOCOL.md §2.2 step 3).</summary>
    IomapAdded = 1U << 0,

    /// <summary>Every bit this version defines; others are MalformedMessage.</summary>
    Known = IomapAdded,
}
