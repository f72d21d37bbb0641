namespace Safemount.Fuse.Tests;

/// <summary>Byte-exact requests, one comment per field, as the 6.18 kernel sends them.</summary>
internal static class Fixtures
{
    /// <summary>FUSE_INIT exactly as Linux 6.18.44 sends it (FUSE-PROTOCOL.md §1.2.1, probe S3).</summary>
    public static byte[] KernelInit618 => Le.Cat(
        Le.U32(104),          // in.len: 40 + sizeof(fuse_init_in) 64
        Le.U32(26),           // in.opcode: FUSE_INIT
        Le.U64(2),            // in.unique: 2 (the first request of a connection)
        Le.U64(0),            // in.nodeid: 0
        Le.U32(0),            // in.uid: 0
        Le.U32(0),            // in.gid: 0
        Le.U32(0),            // in.pid: 0
        Le.U16(0),            // in.total_extlen: 0
        Le.U16(0),            // in.padding
        Le.U32(7),            // init_in.major: 7
        Le.U32(45),           // init_in.minor: 45
        Le.U32(131072),       // init_in.max_readahead: 128 KiB
        Le.U32(0x73FFFFFB),   // init_in.flags: bits 0,1,3-25,28-30
        Le.U32(0x000005FD),   // init_in.flags2: bits 32,34-40,42
        Le.Zeros(44));        // init_in.unused[11]

    /// <summary>FUSE_LOOKUP of "hello" in the root.</summary>
    public static byte[] LookupHello(ulong unique) => Le.Cat(
        Le.U32(46),           // in.len: 40 + "hello\0" 6
        Le.U32(1),            // in.opcode: FUSE_LOOKUP
        Le.U64(unique),       // in.unique
        Le.U64(1),            // in.nodeid: FUSE_ROOT_ID (the parent)
        Le.U32(1000),         // in.uid
        Le.U32(1000),         // in.gid
        Le.U32(4242),         // in.pid
        Le.U16(0),            // in.total_extlen
        Le.U16(0),            // in.padding
        Le.Name("hello"));    // name + NUL

    /// <summary>FUSE_READDIRPLUS of the root at cookie <paramref name="offset"/>, asking for <paramref name="size"/> bytes.</summary>
    public static byte[] ReadDirPlus(ulong unique, ulong offset, uint size) => Le.Cat(
        Le.U32(80),           // in.len: 40 + sizeof(fuse_read_in) 40
        Le.U32(44),           // in.opcode: FUSE_READDIRPLUS
        Le.U64(unique),       // in.unique
        Le.U64(1),            // in.nodeid: the directory
        Le.U32(0),            // in.uid
        Le.U32(0),            // in.gid
        Le.U32(77),           // in.pid
        Le.U16(0),            // in.total_extlen
        Le.U16(0),            // in.padding
        Le.U64(0x2001),       // read_in.fh: from OPENDIR
        Le.U64(offset),       // read_in.offset: directory cookie
        Le.U32(size),         // read_in.size: reply buffer the kernel offers
        Le.U32(0),            // read_in.read_flags
        Le.U64(0),            // read_in.lock_owner
        Le.U32(0x18800),      // read_in.flags: O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_LARGEFILE
        Le.U32(0));           // read_in.padding

    /// <summary>fuse_read_in body for READ/READDIR.</summary>
    public static byte[] ReadIn(ulong fh, ulong offset, uint size) => Le.Cat(
        Le.U64(fh),           // fh
        Le.U64(offset),       // offset
        Le.U32(size),         // size
        Le.U32(0),            // read_flags
        Le.U64(0),            // lock_owner
        Le.U32(0x8000),       // flags: O_RDONLY|O_LARGEFILE
        Le.U32(0));           // padding
}
