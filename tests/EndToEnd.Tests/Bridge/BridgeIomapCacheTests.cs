using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using NUnit.Framework;
using Safemount.Ext4;
using Safemount.Ext4.Storage;
using Safemount.Ext4Service.Bridge;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>
/// fuse-iomap's kernel caches, composed as MountService composes them (a FuseSession over the
/// device, the bridge over a real image, the session as the bridge's notifier): the bytes that
/// reach /dev/fuse are checked field by field against FUSE-PROTOCOL.md §2.4/§2.5 (UPSERT 100 of
/// 80 bytes, INVAL_MAPPINGS 101 of 48, DEV_INVAL 99 of 24, each after a 16-byte out_header with
/// unique 0), and their ranges against debugfs. An iomap session gets: an UPSERT of the read
/// mapping before the BEGIN reply (none for REPORT, none for new blocks); an INVAL for punch and
/// truncate before anything they free is reusable (none for the free after FORGET: the kernel
/// no longer holds the inode); DEV_INVAL for exactly the freed blocks at the commit. A mainline
/// session doing the same gets none of them. e2fsck -fn is clean after both. The kernel end is scripted (this machine's kernel has no fuse-iomap); the ioctls it
/// would answer are recorded (BACKING_OPEN hands out id 1).
/// </summary>
[TestFixture]
public sealed partial class BridgeIomapCacheTests
{
    private const int Bs = 4096;
    private const int Blocks = 12;

    private static FuseRequestContext Ctx => new(1, 1, 0, 0, 1);

    [Test]
    public void AnIomapSessionSendsUpsertInvalAndDevInval()
    {
        string work = Directory.CreateTempSubdirectory("safemount-bridge-iomap-cache-").FullName;
        try
        {
            string image = BuildImage(work, out uint ino, out long p0);
            List<byte[]> written = Serve(image, ino, iomap: true, out List<string> ioctls);
            Assert.That(ioctls, Is.EqualTo(new[] { "BACKING_OPEN", "SET_BLOCKSIZE 1 4096" }));

            // Replies to INIT (unique 2) and CONFIG (3), then BEGIN (4) is preceded by its UPSERT.
            Assert.That(written.Take(9).Select(w => (Error(w), Unique(w))).ToArray(), Is.EqualTo(new (int, ulong)[]
            {
                (0, 2), (0, 3),
                (100, 0), (0, 4),   // UPSERT, BEGIN reply
                (0, 5),             // REPORT: no UPSERT
                (0, 6),             // WRITE past EOF allocates: new blocks are not pushed
                (0, 7),             // WRITE over that block before its allocation is committed: DIRTY, not pushed
                (101, 0), (101, 0), // punch, truncate; unlink and FORGET: none (the kernel no longer holds the inode when it is freed)
            }));

            // The commit releases the freed blocks: the file's twelve and the one the WRITE allocated.
            byte[] allocated = written[5][16..48];
            Assert.That((U16At(allocated, 24), U16At(allocated, 26)), Is.EqualTo((3, 3)), "UNWRITTEN, NEW|DIRTY");
            long pNew = (long)(BinaryPrimitives.ReadUInt64LittleEndian(allocated.AsSpan(16)) / Bs);
            byte[] uncommitted = written[6][16..48];
            Assert.That((U16At(uncommitted, 24), U16At(uncommitted, 26)), Is.EqualTo((3, 2)), "UNWRITTEN, DIRTY (no longer NEW)");
            Assert.That(uncommitted[16..24], Is.EqualTo(allocated[16..24]), "the block the WRITE allocated");
            List<byte[]> devInval = [.. written.Skip(9)];
            Assert.That(devInval, Is.Not.Empty);
            Assert.That(devInval.Select(Error), Has.All.EqualTo(99), "only DEV_INVAL after the INVALs");
            var released = new List<long>();
            ulong previousEnd = 0;
            foreach (byte[] d in devInval)
            {
                Assert.That(d[..24], Is.EqualTo(Cat(
                    U32(40), U32(99), U64(0),               // out_header: len 16 + 24, error = FUSE_NOTIFY_IOMAP_DEV_INVAL, unique 0
                    U32(1), U32(0))), "DEV_INVAL header, dev = backing id 1, reserved 0");
                Assert.That(d, Has.Length.EqualTo(40));
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(24));
                ulong length = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(32));
                Assert.That(offset % Bs == 0 && length % Bs == 0 && length > 0, Is.True, "whole blocks, in bytes");
                Assert.That(offset, Is.GreaterThan(previousEnd), "in block order, adjacent runs merged");
                previousEnd = offset + length;
                for (ulong b = offset / Bs; b < (offset + length) / Bs; b++)
                {
                    released.Add((long)b);
                }
            }

            long[] want = [.. Enumerable.Range(0, Blocks).Select(i => p0 + i).Append(pNew).Order()];
            Assert.That(released, Is.EqualTo(want));

            byte[] beginReply = written[3];
            byte[] read = Io(0, Blocks * Bs, (ulong)p0 * Bs, 2, 0, 1);   // MAPPED, no flags, dev 1: the whole extent
            Assert.That(beginReply[16..48], Is.EqualTo(read), "BEGIN read half: the extent debugfs shows");
            Assert.That(written[2], Is.EqualTo(Cat(
                U32(96), U32(100), U64(0),                  // out_header: len 16 + 80, error = FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS, unique 0
                U64(ino), U64(ino),                         // nodeid, attr_ino
                read,                                       // read: as in the reply
                Io(0, Blocks * Bs, ulong.MaxValue, 253, 0, 0))), "UPSERT: the read mapping, write fork NOCACHE");
            Assert.That(written[7], Is.EqualTo(Inval(ino, Bs, 2 * Bs)), "punch [4096, 12288): blocks 1-2");
            Assert.That(written[8], Is.EqualTo(Inval(ino, 6 * Bs, ulong.MaxValue)), "truncate to 5 blocks + 1 byte: from block 6 to EOF");

            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public void AMainlineSessionSendsNone()
    {
        string work = Directory.CreateTempSubdirectory("safemount-bridge-iomap-cache-").FullName;
        try
        {
            string image = BuildImage(work, out uint ino, out _);
            List<byte[]> written = Serve(image, ino, iomap: false, out List<string> ioctls);
            Assert.That(ioctls, Is.Empty, "no device registration without iomap");

            // INIT is answered; the iomap opcodes get ENOSYS; the same frees notify nothing.
            Assert.That(written.Select(w => (Error(w), Unique(w))).ToArray(), Is.EqualTo(new (int, ulong)[]
            {
                (0, 2), (-38, 3), (-38, 4), (-38, 5), (-38, 6), (-38, 7),
            }));
            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// One session over <paramref name="image"/>: INIT (iomap kernel: minor 99 with FUSE_IOMAP;
    /// else the 6.18 offer), IOMAP_CONFIG, BEGIN read at 0, BEGIN REPORT, BEGIN WRITE past EOF,
    /// BEGIN WRITE again over the block that WRITE allocated; then,
    /// with the session live, lookup /f, punch [4096, 12288), truncate to 5 blocks + 1 byte,
    /// unlink /f, its FORGET and a commit (FREEZE_FS's sync), as the kernel's requests would
    /// drive them. Returns every write to /dev/fuse in order.
    /// </summary>
    private static List<byte[]> Serve(string image, uint ino, bool iomap, out List<string> ioctls)
    {
        using var opened = ImageVolume.Open(image, new Ext4OpenOptions { ReadOnly = false, CommitInterval = TimeSpan.FromHours(1) });
        Ext4Volume volume = opened.Volume;
        SafeFileHandle handle = opened.Handle;

        // As MountService: the device is offered (the helper added iomap), the kernel decides.
        var fs = new Ext4FuseFileSystem(volume, NullLogger.Instance, handle);
        byte[][] requests =
        [
            Init(iomap),
            Request(4092, 3, 0, Cat(U64(0x7F), U64(long.MaxValue), U32(262144), U32(0), new byte[40])),  // IOMAP_CONFIG
            Begin(4, ino, 0, 100, 10),                    // read
            Begin(5, ino, 1U << 2, 0, Blocks * Bs),       // REPORT (FIEMAP)
            Begin(6, ino, 1U << 0, 20 * Bs, Bs),          // WRITE past EOF: allocates
            Begin(7, ino, 1U << 0, 20 * Bs, Bs),          // WRITE again over the block just allocated
        ];
        var results = new List<Errno>();
        var device = new ScriptedDevice(requests, () =>
        {
            // Results are checked after the session: an exception here would end it early.
            // The kernel holds /f (one lookup), as it does while a process has it open.
            results.Add(fs.Lookup(Ctx, 1, "f"u8, out FuseEntry entry));
            results.Add(entry.NodeId == ino ? Errno.None : Errno.ESTALE);
            results.Add(fs.Fallocate(Ctx, ino, 0, Bs, 2 * Bs, 0x02 | 0x01));   // PUNCH_HOLE | KEEP_SIZE
            var size = new FuseSetAttr(FuseSetAttrValid.FATTR_SIZE, 0, (5 * Bs) + 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            results.Add(fs.SetAttr(Ctx, ino, size, out _));
            results.Add(fs.Unlink(Ctx, 1, "f"u8));   // an orphan while looked up: nothing freed yet
            fs.Forget(ino, 1);                           // the kernel evicted it: freed, and it caches nothing
            results.Add(fs.FreezeFs(Ctx, 0));
        });
        var session = new FuseSession(device, fs, new FuseSessionOptions { WorkerThreads = 1, AllowIomap = true }, NullLogger.Instance);
        fs.IomapNotifier = session;
        session.Run();
        Assert.That(device.ScriptRan, Is.True, "the frees ran while the session was live");
        Assert.That(results, Is.EqualTo(Enumerable.Repeat(Errno.None, 6)), "lookup, its node id, punch, truncate, unlink, sync");
        volume.Unmount();
        ioctls = [.. device.Ioctls];
        return [.. device.Written];
    }

    /// <summary>An image with /f: twelve blocks of data in one extent. Returns its inode and first physical block.</summary>
    private static string BuildImage(string work, out uint ino, out long p0)
    {
        var data = new byte[Blocks * Bs];
        new Random(9).NextBytes(data);
        string image = BridgeImage.Make(work, "16M", [("f", data)], "-b", "4096");
        string stat = VariantImages.Debugfs(image, "stat /f");
        ino = VariantImages.InodeOf(image, "/f");
        Match extent = OneExtent().Match(stat);
        Assert.That(extent.Success, Is.True, "one 12-block extent: " + stat);
        p0 = long.Parse(extent.Groups[1].Value, CultureInfo.InvariantCulture);
        return image;
    }

    private static byte[] Inval(uint ino, ulong offset, ulong length) => Cat(
        U32(64), U32(101), U64(0),                          // out_header: len 16 + 48, error = FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS, unique 0
        U64(ino), U64(ino),                                 // nodeid, attr_ino
        U64(offset), U64(length),                           // read fork range
        U64(offset), U64(length));                          // write fork range

    /// <summary>FUSE_INIT: from a fuse-iomap kernel (minor 99, flags2 bit 11 = FUSE_IOMAP) or mainline 6.18 (7.45).</summary>
    private static byte[] Init(bool iomap) => Request(26, 2, 0, Cat(
        U32(7), U32(iomap ? 99U : 45U),                     // major, minor
        U32(131072),                                        // max_readahead
        U32(0x73FFFFFB),                                    // flags: as 6.18 (INIT_EXT included)
        U32(0x000005FD | (iomap ? 1U << 11 : 0)),           // flags2
        new byte[44]));                                     // unused[11]

    /// <summary>FUSE_IOMAP_BEGIN (4094): opflags, reserved, attr_ino, pos, count.</summary>
    private static byte[] Begin(ulong unique, uint ino, uint opflags, ulong pos, ulong count) =>
        Request(4094, unique, ino, Cat(U32(opflags), U32(0), U64(ino), U64(pos), U64(count)));

    /// <summary>fuse_in_header (40 bytes) + body.</summary>
    private static byte[] Request(uint opcode, ulong unique, ulong nodeId, byte[] body) => Cat(
        U32((uint)(40 + body.Length)), U32(opcode), U64(unique), U64(nodeId),
        U32(0), U32(0), U32(0), U16(0), U16(0), body);

    /// <summary>fuse_iomap_io: offset, length, addr, type u16, flags u16, dev u32.</summary>
    private static byte[] Io(ulong offset, ulong length, ulong addr, ushort type, ushort flags, uint dev) =>
        Cat(U64(offset), U64(length), U64(addr), U16(type), U16(flags), U32(dev));

    private static ushort U16At(byte[] b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at));

    private static int Error(byte[] w) => BinaryPrimitives.ReadInt32LittleEndian(w.AsSpan(4));

    private static ulong Unique(byte[] w) => BinaryPrimitives.ReadUInt64LittleEndian(w.AsSpan(8));

    private static byte[] U16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return b;
    }

    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    private static byte[] U64(long v) => U64((ulong)v);

    private static byte[] Cat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>debugfs stat's EXTENTS line for one extent of twelve blocks: "(0-11):P-Q".</summary>
    [GeneratedRegex(@"EXTENTS:\s*\(0-11\):(\d+)-\d+\s*$", RegexOptions.Multiline)]
    private static partial Regex OneExtent();

    /// <summary>
    /// The kernel end: hands out the requests one per Read; when they are used up, runs the
    /// script once (the session is live: INIT answered, nothing stopping) and then reports the
    /// connection gone. Records every write and the iomap ioctls.
    /// </summary>
    private sealed class ScriptedDevice(byte[][] requests, Action script) : IFuseDevice, IFuseIomapDevice
    {
        private readonly ConcurrentQueue<byte[]> _requests = new(requests);

        public ConcurrentQueue<byte[]> Written { get; } = new();

        public ConcurrentQueue<string> Ioctls { get; } = new();

        public bool ScriptRan { get; private set; }

        public int Read(Span<byte> buffer)
        {
            if (_requests.TryDequeue(out byte[]? request))
            {
                request.CopyTo(buffer);
                return request.Length;
            }

            if (!ScriptRan)
            {
                ScriptRan = true;
                script();
            }

            return -(int)Errno.ENODEV;
        }

        public int Write(ReadOnlySpan<byte> reply)
        {
            Written.Enqueue(reply.ToArray());
            return 0;
        }

        public Errno IomapBackingOpen(SafeHandle blockDevice, out uint backingId)
        {
            backingId = 1;
            Ioctls.Enqueue("BACKING_OPEN");
            return Errno.None;
        }

        public Errno IomapSetBlockSize(uint backingId, uint blockSize)
        {
            Ioctls.Enqueue($"SET_BLOCKSIZE {backingId} {blockSize}");
            return Errno.None;
        }
    }
}
