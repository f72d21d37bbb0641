namespace Safemount.Fuse.Tests;

/// <summary>Byte-exact write-side requests (fuse_kernel.h 7.45 layouts), one comment per field.
/// The header is Le.InHeader's: uid 1000, gid 1000, pid 4242, no extensions.</summary>
internal static class WriteFixtures
{
    public const uint FUSE_SETATTR = 4;
    public const uint FUSE_SYMLINK = 6;
    public const uint FUSE_MKNOD = 8;
    public const uint FUSE_MKDIR = 9;
    public const uint FUSE_UNLINK = 10;
    public const uint FUSE_RMDIR = 11;
    public const uint FUSE_RENAME = 12;
    public const uint FUSE_LINK = 13;
    public const uint FUSE_WRITE = 16;
    public const uint FUSE_SETXATTR = 21;
    public const uint FUSE_REMOVEXATTR = 24;
    public const uint FUSE_FSYNCDIR = 30;
    public const uint FUSE_CREATE = 35;
    public const uint FUSE_FALLOCATE = 43;
    public const uint FUSE_RENAME2 = 45;
    public const uint FUSE_LSEEK = 46;
    public const uint FUSE_COPY_FILE_RANGE = 47;
    public const uint FUSE_TMPFILE = 51;
    public const uint FUSE_COPY_FILE_RANGE_64 = 53;

    /// <summary>FUSE_INIT from 6.18 with some offered bits removed (flags, flags2).</summary>
    public static byte[] InitWithout(uint flagsMask, uint flags2Mask)
    {
        byte[] init = Fixtures.KernelInit618;
        uint flags = BitConverter.ToUInt32(init, 52) & ~flagsMask;
        uint flags2 = BitConverter.ToUInt32(init, 56) & ~flags2Mask;
        BitConverter.TryWriteBytes(init.AsSpan(52), flags);  // init_in.flags
        BitConverter.TryWriteBytes(init.AsSpan(56), flags2); // init_in.flags2
        return init;
    }

    public static byte[] Create(ulong unique, ulong parent, string name, uint flags, uint mode, uint umask, uint openFlags = 0, uint opcode = FUSE_CREATE) => Le.Request(opcode, unique, parent,
        Le.U32(flags),       // create_in.flags: open(2) flags
        Le.U32(mode),        // create_in.mode: S_IFREG | permissions, umask applied
        Le.U32(umask),       // create_in.umask
        Le.U32(openFlags),   // create_in.open_flags: FUSE_OPEN_KILL_SUIDGID
        Le.Name(name));      // name + NUL ("/" for TMPFILE)

    public static byte[] MkNod(ulong unique, ulong parent, string name, uint mode, uint rdev, uint umask) => Le.Request(FUSE_MKNOD, unique, parent,
        Le.U32(mode),        // mknod_in.mode: S_IFMT type | permissions
        Le.U32(rdev),        // mknod_in.rdev: new_encode_dev
        Le.U32(umask),       // mknod_in.umask
        Le.U32(0),           // mknod_in.padding
        Le.Name(name));      // name + NUL

    public static byte[] MkDir(ulong unique, ulong parent, string name, uint mode, uint umask) => Le.Request(FUSE_MKDIR, unique, parent,
        Le.U32(mode),        // mkdir_in.mode: permissions only
        Le.U32(umask),       // mkdir_in.umask
        Le.Name(name));      // name + NUL

    public static byte[] Symlink(ulong unique, ulong parent, string name, string target) => Le.Request(FUSE_SYMLINK, unique, parent,
        Le.Name(name),       // entry name + NUL
        Le.Name(target));    // link target + NUL

    public static byte[] Link(ulong unique, ulong newParent, ulong oldNode, string name) => Le.Request(FUSE_LINK, unique, newParent,
        Le.U64(oldNode),     // link_in.oldnodeid
        Le.Name(name));      // new name + NUL

    public static byte[] Unlink(ulong unique, ulong parent, string name, uint opcode = FUSE_UNLINK) => Le.Request(opcode, unique, parent,
        Le.Name(name));      // name + NUL

    public static byte[] Rename(ulong unique, ulong parent, string name, ulong newDir, string newName) => Le.Request(FUSE_RENAME, unique, parent,
        Le.U64(newDir),      // rename_in.newdir
        Le.Name(name),       // old name + NUL
        Le.Name(newName));   // new name + NUL

    public static byte[] Rename2(ulong unique, ulong parent, string name, ulong newDir, string newName, uint flags) => Le.Request(FUSE_RENAME2, unique, parent,
        Le.U64(newDir),      // rename2_in.newdir
        Le.U32(flags),       // rename2_in.flags: RENAME_*
        Le.U32(0),           // rename2_in.padding
        Le.Name(name),       // old name + NUL
        Le.Name(newName));   // new name + NUL

    /// <summary>fuse_setattr_in with distinct values in every field.</summary>
    public static byte[] SetAttr(ulong unique, ulong node, uint valid, ulong size = 0x1234, uint mode = 0x1ED) => Le.Request(FUSE_SETATTR, unique, node,
        Le.U32(valid),       // setattr_in.valid: FATTR_*
        Le.U32(0),           // setattr_in.padding
        Le.U64(0xF00D),      // setattr_in.fh
        Le.U64(size),        // setattr_in.size
        Le.U64(0xABCD),      // setattr_in.lock_owner
        Le.U64(1_650_000_001), // setattr_in.atime
        Le.U64(1_650_000_002), // setattr_in.mtime
        Le.U64(1_650_000_003), // setattr_in.ctime
        Le.U32(111),         // setattr_in.atimensec
        Le.U32(222),         // setattr_in.mtimensec
        Le.U32(333),         // setattr_in.ctimensec
        Le.U32(mode),        // setattr_in.mode
        Le.U32(0),           // setattr_in.unused4
        Le.U32(4001),        // setattr_in.uid
        Le.U32(4002),        // setattr_in.gid
        Le.U32(0));          // setattr_in.unused5

    public static byte[] Write(ulong unique, ulong node, ulong fh, ulong offset, byte[] data, uint writeFlags = 0, uint? sizeField = null) => Le.Request(FUSE_WRITE, unique, node,
        Le.U64(fh),          // write_in.fh
        Le.U64(offset),      // write_in.offset
        Le.U32(sizeField ?? (uint)data.Length), // write_in.size
        Le.U32(writeFlags),  // write_in.write_flags: FUSE_WRITE_*
        Le.U64(0x77),        // write_in.lock_owner
        Le.U32(0x8001),      // write_in.flags: O_WRONLY|O_LARGEFILE
        Le.U32(0),           // write_in.padding
        data);               // the data

    public static byte[] Fallocate(ulong unique, ulong node, ulong fh, ulong offset, ulong length, uint mode) => Le.Request(FUSE_FALLOCATE, unique, node,
        Le.U64(fh),          // fallocate_in.fh
        Le.U64(offset),      // fallocate_in.offset
        Le.U64(length),      // fallocate_in.length
        Le.U32(mode),        // fallocate_in.mode: FALLOC_FL_*
        Le.U32(0));          // fallocate_in.padding

    /// <summary>SETXATTR with the 16-byte fuse_setxattr_in (FUSE_SETXATTR_EXT negotiated).</summary>
    public static byte[] SetXattr(ulong unique, ulong node, string name, byte[] value, uint flags, uint setxattrFlags = 0, uint? sizeField = null) => Le.Request(FUSE_SETXATTR, unique, node,
        Le.U32(sizeField ?? (uint)value.Length), // setxattr_in.size
        Le.U32(flags),       // setxattr_in.flags: XATTR_CREATE 1, XATTR_REPLACE 2
        Le.U32(setxattrFlags), // setxattr_in.setxattr_flags
        Le.U32(0),           // setxattr_in.padding
        Le.Name(name),       // name + NUL
        value);              // value

    /// <summary>SETXATTR with the 8-byte compat fuse_setxattr_in (no FUSE_SETXATTR_EXT).</summary>
    public static byte[] SetXattrCompat(ulong unique, ulong node, string name, byte[] value, uint flags) => Le.Request(FUSE_SETXATTR, unique, node,
        Le.U32((uint)value.Length), // setxattr_in.size
        Le.U32(flags),       // setxattr_in.flags
        Le.Name(name),       // name + NUL
        value);              // value

    public static byte[] RemoveXattr(ulong unique, ulong node, string name) => Le.Request(FUSE_REMOVEXATTR, unique, node,
        Le.Name(name));      // name + NUL

    public static byte[] Lseek(ulong unique, ulong node, ulong fh, ulong offset, uint whence) => Le.Request(FUSE_LSEEK, unique, node,
        Le.U64(fh),          // lseek_in.fh
        Le.U64(offset),      // lseek_in.offset
        Le.U32(whence),      // lseek_in.whence: SEEK_DATA 3, SEEK_HOLE 4
        Le.U32(0));          // lseek_in.padding

    public static byte[] CopyFileRange(ulong unique, ulong nodeIn, ulong fhIn, ulong offIn, ulong nodeOut, ulong fhOut, ulong offOut, ulong len, uint opcode = FUSE_COPY_FILE_RANGE_64) => Le.Request(opcode, unique, nodeIn,
        Le.U64(fhIn),        // copy_file_range_in.fh_in
        Le.U64(offIn),       // copy_file_range_in.off_in
        Le.U64(nodeOut),     // copy_file_range_in.nodeid_out
        Le.U64(fhOut),       // copy_file_range_in.fh_out
        Le.U64(offOut),      // copy_file_range_in.off_out
        Le.U64(len),         // copy_file_range_in.len
        Le.U64(0));          // copy_file_range_in.flags

    public static byte[] FsyncDir(ulong unique, ulong node, ulong fh, uint fsyncFlags) => Le.Request(FUSE_FSYNCDIR, unique, node,
        Le.U64(fh),          // fsync_in.fh
        Le.U32(fsyncFlags),  // fsync_in.fsync_flags: FUSE_FSYNC_FDATASYNC
        Le.U32(0));          // fsync_in.padding

    /// <summary>One well-formed request of every write opcode against the initial tree (unique 4).</summary>
    public static IEnumerable<(string Name, uint Opcode, byte[] Request)> OneOfEach()
    {
        yield return ("SETATTR", FUSE_SETATTR, SetAttr(4, TestFileSystem.Hello, 1));
        yield return ("SYMLINK", FUSE_SYMLINK, Symlink(4, 1, "s", "hello"));
        yield return ("MKNOD", FUSE_MKNOD, MkNod(4, 1, "p", 0x11A4, 0, 0x12));
        yield return ("MKDIR", FUSE_MKDIR, MkDir(4, 1, "d", 0x1ED, 0x12));
        yield return ("UNLINK", FUSE_UNLINK, Unlink(4, 1, "hello"));
        yield return ("RMDIR", FUSE_RMDIR, Unlink(4, 1, "nodir", FUSE_RMDIR));
        yield return ("RENAME", FUSE_RENAME, Rename(4, 1, "hello", 1, "hello2"));
        yield return ("LINK", FUSE_LINK, Link(4, 1, TestFileSystem.Hello, "hard"));
        yield return ("WRITE", FUSE_WRITE, Write(4, TestFileSystem.Hello, 0x1002, 0, [1, 2, 3]));
        yield return ("SETXATTR", FUSE_SETXATTR, SetXattr(4, TestFileSystem.Hello, "user.a", [1], 0));
        yield return ("REMOVEXATTR", FUSE_REMOVEXATTR, RemoveXattr(4, TestFileSystem.Hello, "user.test"));
        yield return ("CREATE", FUSE_CREATE, Create(4, 1, "c", 0x8241, 0x81A4, 0x12));
        yield return ("FALLOCATE", FUSE_FALLOCATE, Fallocate(4, TestFileSystem.Hello, 0x1002, 0, 100, 0));
        yield return ("RENAME2", FUSE_RENAME2, Rename2(4, 1, "hello", 1, "link", 2));
        yield return ("COPY_FILE_RANGE", FUSE_COPY_FILE_RANGE, CopyFileRange(4, TestFileSystem.Hello, 1, 0, TestFileSystem.Hello, 1, 100, 5, FUSE_COPY_FILE_RANGE));
        yield return ("COPY_FILE_RANGE_64", FUSE_COPY_FILE_RANGE_64, CopyFileRange(4, TestFileSystem.Hello, 1, 0, TestFileSystem.Hello, 1, 100, 5));
        yield return ("TMPFILE", FUSE_TMPFILE, Create(4, 1, "/", 0x410002, 0x8180, 0x12, opcode: FUSE_TMPFILE));
    }
}
