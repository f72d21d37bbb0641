using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_entry_out (fuse_kernel.h, protocol 7.45), 128 bytes. Reply to LOOKUP (and the first part of fuse_direntplus).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct FuseEntryOut
{
    /// <summary>sizeof(struct fuse_entry_out).</summary>
    public const int SizeOf = 128;

    /// <summary>nodeid: node id of the entry; 0 = negative entry.</summary>
    [FieldOffset(0)]
    public ulong Nodeid;

    /// <summary>generation: inode generation; (nodeid, generation) is unique for the mount's life.</summary>
    [FieldOffset(8)]
    public ulong Generation;

    /// <summary>entry_valid: dentry cache timeout, seconds.</summary>
    [FieldOffset(16)]
    public ulong EntryValid;

    /// <summary>attr_valid: attribute cache timeout, seconds.</summary>
    [FieldOffset(24)]
    public ulong AttrValid;

    /// <summary>entry_valid_nsec: nanoseconds of entry_valid.</summary>
    [FieldOffset(32)]
    public uint EntryValidNsec;

    /// <summary>attr_valid_nsec: nanoseconds of attr_valid.</summary>
    [FieldOffset(36)]
    public uint AttrValidNsec;

    /// <summary>attr: the node's attributes.</summary>
    [FieldOffset(40)]
    public Safemount.Fuse.FuseAttr Attr;
}
