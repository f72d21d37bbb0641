namespace Safemount.Fuse.Tests;

/// <summary>Byte-exact fuse-iomap v7 requests (FUSE-PROTOCOL.md §2.3/§2.4), one comment per
/// field, as an iomap kernel (minor 99) sends them.</summary>
internal static class IomapFixtures
{
    public const uint FUSE_FREEZE_FS = 4089;
    public const uint FUSE_UNFREEZE_FS = 4090;
    public const uint FUSE_SHUTDOWN_FS = 4091;
    public const uint FUSE_IOMAP_CONFIG = 4092;
    public const uint FUSE_IOMAP_IOEND = 4093;
    public const uint FUSE_IOMAP_BEGIN = 4094;
    public const uint FUSE_IOMAP_END = 4095;

    /// <summary>attr_ino of "hello": TestFileSystem reports node + 10.</summary>
    public const ulong HelloIno = TestFileSystem.Hello + 10;

    /// <summary>FUSE_INIT from a fuse-iomap kernel on a fd that had ADD_IOMAP: the 6.18 offer
    /// with minor 99 and flags2 bit 11 (FUSE_IOMAP = bit 43).</summary>
    public static byte[] KernelInitIomap(uint minor = 99, uint flags2 = 0x000005FD | (1U << 11)) => Le.Cat(
        Le.U32(104),          // in.len: 40 + sizeof(fuse_init_in) 64
        Le.U32(26),           // in.opcode: FUSE_INIT
        Le.U64(2),            // in.unique: 2
        Le.U64(0),            // in.nodeid: 0
        Le.U32(0),            // in.uid
        Le.U32(0),            // in.gid
        Le.U32(0),            // in.pid
        Le.U16(0),            // in.total_extlen
        Le.U16(0),            // in.padding
        Le.U32(7),            // init_in.major: 7
        Le.U32(minor),        // init_in.minor: 99 = fuse-iomap
        Le.U32(131072),       // init_in.max_readahead
        Le.U32(0x73FFFFFB),   // init_in.flags: as 6.18
        Le.U32(flags2),       // init_in.flags2: 6.18's plus bit 11 (IOMAP)
        Le.Zeros(44));        // init_in.unused[11]

    /// <summary>FUSE_IOMAP_CONFIG as fs/fuse/fuse_iomap.c sends it right after INIT.</summary>
    public static byte[] Config(ulong unique, ulong flags = 0x7F, long maxbytes = long.MaxValue) => Le.Request(FUSE_IOMAP_CONFIG, unique, 0,
        Le.U64(flags),            // config_in.flags: every CONFIG_* bit the kernel accepts (SID..CACHE_MAXBYTES)
        Le.U64((ulong)maxbytes),  // config_in.maxbytes: MAX_LFS_FILESIZE
        Le.U32(262144),           // config_in.cache_maxbytes: FUSE_IOMAP_CACHE_DEFAULT_MAXBYTES
        Le.U32(0),                // config_in.zero
        Le.Zeros(40));            // config_in.padding[5]

    /// <summary>FUSE_IOMAP_BEGIN for <paramref name="node"/>.</summary>
    public static byte[] Begin(ulong unique, ulong node, uint opflags, ulong pos, ulong count, ulong attrIno = HelloIno, uint reserved = 0) => Le.Request(FUSE_IOMAP_BEGIN, unique, node,
        Le.U32(opflags),      // begin_in.opflags: FUSE_IOMAP_OP_*
        Le.U32(reserved),     // begin_in.reserved
        Le.U64(attrIno),      // begin_in.attr_ino
        Le.U64(pos),          // begin_in.pos
        Le.U64(count));       // begin_in.count

    /// <summary>fuse_iomap_io, 32 bytes.</summary>
    public static byte[] Io(ulong offset, ulong length, ulong addr, ushort type, ushort flags, uint dev) => Le.Cat(
        Le.U64(offset),       // io.offset
        Le.U64(length),       // io.length
        Le.U64(addr),         // io.addr
        Le.U16(type),         // io.type
        Le.U16(flags),        // io.flags
        Le.U32(dev));         // io.dev

    /// <summary>FUSE_IOMAP_END after an appending buffered write through the UNWRITTEN block at 4096.</summary>
    public static byte[] End(ulong unique, ulong node, long written = 100) => Le.Request(FUSE_IOMAP_END, unique, node,
        Le.U32(1),            // end_in.opflags: WRITE
        Le.U32(0),            // end_in.reserved
        Le.U64(HelloIno),     // end_in.attr_ino
        Le.U64(4096),         // end_in.pos
        Le.U64(100),          // end_in.count
        Le.U64((ulong)written), // end_in.written
        Io(4096, 4096, TestFileSystem.NewAddrBase + 4096, 3, 0x102, 1)); // end_in.map: UNWRITTEN, DIRTY|SIZE_CHANGED, dev 1

    /// <summary>FUSE_IOMAP_IOEND of writeback over an unwritten range that passes EOF.</summary>
    public static byte[] Ioend(ulong unique, ulong node, uint flags = 0x32, int error = 0, ulong pos = 4096, ulong written = 100) => Le.Request(FUSE_IOMAP_IOEND, unique, node,
        Le.U32(flags),        // ioend_in.flags: UNWRITTEN|APPEND|WRITEBACK
        Le.U32((uint)error),  // ioend_in.error: 0 or -errno
        Le.U64(HelloIno),     // ioend_in.attr_ino
        Le.U64(pos),          // ioend_in.pos
        Le.U64(0x1000),       // ioend_in.new_addr: sector number from writeback (ignored)
        Le.U64(written),      // ioend_in.written
        Le.U32(1),            // ioend_in.dev
        Le.U32(0));           // ioend_in.pad

    public static byte[] Freeze(ulong unique) => Le.Request(FUSE_FREEZE_FS, unique, 1,
        Le.U64(3));           // freezefs_in.unlinked: sb->s_remove_count

    public static byte[] Unfreeze(ulong unique) => Le.Request(FUSE_UNFREEZE_FS, unique, 1);

    public static byte[] Shutdown(ulong unique) => Le.Request(FUSE_SHUTDOWN_FS, unique, 1,
        Le.U64(0));           // shutdownfs_in.flags

    /// <summary>The prefix of <paramref name="request"/> with its body cut to <paramref name="bodyLength"/>, len fixed.</summary>
    public static byte[] Truncated(byte[] request, int bodyLength)
    {
        byte[] cut = request[..(40 + bodyLength)];
        Le.U32((uint)cut.Length).CopyTo(cut, 0);
        return cut;
    }
}
