using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_attr_out (fuse_kernel.h, protocol 7.45), 104 bytes. Reply to GETATTR and SETATTR.</summary>
[StructLayout(LayoutKind.Explicit, Size = 104)]
internal struct FuseAttrOut
{
    /// <summary>sizeof(struct fuse_attr_out).</summary>
    public const int SizeOf = 104;

    /// <summary>attr_valid: attribute cache timeout, seconds.</summary>
    [FieldOffset(0)]
    public ulong AttrValid;

    /// <summary>attr_valid_nsec: nanoseconds of attr_valid.</summary>
    [FieldOffset(8)]
    public uint AttrValidNsec;

    /// <summary>dummy: zero.</summary>
    [FieldOffset(12)]
    public uint Dummy;

    /// <summary>attr: the node's attributes.</summary>
    [FieldOffset(16)]
    public Safemount.Fuse.FuseAttr Attr;
}
