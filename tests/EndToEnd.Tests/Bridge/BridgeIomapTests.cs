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
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>
/// The bridge's fuse-iomap answers (Ext4FuseFileSystem as IFuseIomapFileSystem) on a real image:
/// IOMAP_CONFIG registers the device it was given and reports the volume; BEGIN answers in
/// device bytes on the registered id, checked against debugfs; a write over a hole allocates an
/// unwritten block flagged NEW|DIRTY; IOEND converts it and reports the new size; e2fsck -fn
/// is clean afterwards. The ioctls themselves need a fuse-iomap kernel, so the device here
/// records the registration (BACKING_OPEN would hand out id 1 first, §2.2 step 6).
/// </summary>
[TestFixture]
public sealed partial class BridgeIomapTests
{
    private const uint BackingId = 1;

    private static FuseRequestContext Root => new(1, 1, 0, 0, 1);

    private sealed class RecordingIomapDevice : IFuseIomapDevice
    {
        public List<string> Calls { get; } = [];

        public Errno IomapBackingOpen(SafeHandle blockDevice, out uint backingId)
        {
            backingId = BackingId;
            Calls.Add($"BACKING_OPEN fd={blockDevice.DangerousGetHandle()}");
            return Errno.None;
        }

        public Errno IomapSetBlockSize(uint backingId, uint blockSize)
        {
            Calls.Add($"SET_BLOCKSIZE {backingId} {blockSize}");
            return Errno.ENOTTY;
        }
    }

    [Test]
    public void ConfigBeginIoendOnARealImage()
    {
        string work = Directory.CreateTempSubdirectory("safemount-bridge-iomap-").FullName;
        try
        {
            var data = new byte[10000];
            new Random(3).NextBytes(data);
            string image = BridgeImage.Make(work, "16M", [("f", data)], "-b", "4096", "-L", "iomapvol");
            uint ino = VariantImages.InodeOf(image, "/f");
            long physical0 = long.Parse(VariantImages.Debugfs(image, "bmap /f 0").Trim(), CultureInfo.InvariantCulture);

            FuseIomapMapping read0, write0, hole, holeWrite;
            long newSize;
            var device = new RecordingIomapDevice();
            using (var opened = ImageVolume.Open(image, new Ext4OpenOptions { ReadOnly = false }))
            {
                Ext4Volume volume = opened.Volume;
                SafeFileHandle handle = opened.Handle;
                var fs = new Ext4FuseFileSystem(volume, NullLogger.Instance, handle);
                Assert.That(fs.IomapConfig(device, long.MaxValue, out FuseIomapConfig config), Is.EqualTo(Errno.None));
                Assert.That(device.Calls, Is.EqualTo(new[] { $"BACKING_OPEN fd={handle.DangerousGetHandle()}", "SET_BLOCKSIZE 1 4096" }), "the device it was given, then its block size (ENOTTY tolerated)");
                Assert.That(config.BlockSize, Is.EqualTo(4096u));
                Assert.That(config.Sid, Is.EqualTo("iomapvol"u8.ToArray()));
                Assert.That(config.Uuid, Is.EqualTo(volume.Uuid.ToByteArray(bigEndian: true)));
                Assert.That(config.MaxLinks, Is.EqualTo(65000u));
                Assert.That((config.TimeGranularityNs, config.TimeMin, config.TimeMax), Is.EqualTo((1u, (long)int.MinValue, 0x37FFFFFFFL)), "256-byte inodes: ns timestamps to 2446");
                Assert.That(config.MaxBytes, Is.EqualTo(volume.MaxFileBytes));

                ulong node = ino;
                Assert.That(fs.IomapBegin(Root, node, ino, 0, 100, 10, out read0, out write0), Is.EqualTo(Errno.None));
                Assert.That(fs.IomapBegin(Root, node, ino + 1, 0, 100, 10, out _, out _), Is.EqualTo(Errno.ESTALE), "attr_ino must be the node's inode");
                Assert.That(fs.IomapBegin(Root, node, ino, FuseIomapOp.FUSE_IOMAP_OP_WRITE, 5 * 4096, 4096, out hole, out holeWrite), Is.EqualTo(Errno.None));
                Assert.That(fs.IomapBegin(Root, node, ino, FuseIomapOp.FUSE_IOMAP_OP_WRITE | FuseIomapOp.FUSE_IOMAP_OP_OVERWRITE_ONLY, 9 * 4096, 4096, out _, out _), Is.EqualTo(Errno.EAGAIN), "overwrite-only over a hole");
                Assert.That(fs.IomapBegin(Root, node, ino, FuseIomapOp.FUSE_IOMAP_OP_ATOMIC, 0, 4096, out _, out _), Is.EqualTo(Errno.EOPNOTSUPP));
            }

            // The kernel writes block 5 at the mapped address; then it sends IOEND.

            Assert.That(read0, Is.EqualTo(new FuseIomapMapping(0, 3 * 4096, (ulong)physical0 * 4096, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, FuseIomapFlags.None, BackingId)), "the whole 3-block extent, in device bytes");
            Assert.That(write0, Is.EqualTo(FuseIomapMapping.PureOverwrite(read0)));
            Assert.That((hole.Type, hole.Offset, hole.Length, hole.Flags, hole.Dev), Is.EqualTo((FuseIomapType.FUSE_IOMAP_TYPE_UNWRITTEN, 5UL * 4096, 4096UL, FuseIomapFlags.FUSE_IOMAP_F_NEW | FuseIomapFlags.FUSE_IOMAP_F_DIRTY, BackingId)));
            Assert.That(holeWrite.Type, Is.EqualTo(FuseIomapType.FUSE_IOMAP_TYPE_PURE_OVERWRITE));
            Assert.That(VariantImages.Debugfs(image, "bmap /f 5").Trim(), Is.EqualTo($"{hole.Addr / 4096} (uninit)"), "debugfs maps block 5 there, unwritten");

            var block = new byte[4096];
            new Random(4).NextBytes(block);
            using (SafeFileHandle raw = File.OpenHandle(image, FileMode.Open, FileAccess.ReadWrite))
            {
                RandomAccess.Write(raw, block, (long)hole.Addr);
            }

            using (var opened = ImageVolume.Open(image, new Ext4OpenOptions { ReadOnly = false }))
            {
                Ext4Volume volume = opened.Volume;
                SafeFileHandle handle = opened.Handle;
                var fs = new Ext4FuseFileSystem(volume, NullLogger.Instance, handle);
                Assert.That(fs.IomapIoend(Root, ino, ino, FuseIomapIoendFlags.FUSE_IOMAP_IOEND_UNWRITTEN | FuseIomapIoendFlags.FUSE_IOMAP_IOEND_APPEND, Errno.None, 5 * 4096, 4096, out newSize), Is.EqualTo(Errno.None));
                Assert.That(fs.IomapIoend(Root, ino, ino, FuseIomapIoendFlags.None, Errno.EIO, 0, 4096, out _), Is.EqualTo(Errno.EIO), "a failed write is answered with its error");
                Assert.That(fs.IomapIoend(Root, ino, ino, FuseIomapIoendFlags.FUSE_IOMAP_IOEND_SHARED, Errno.None, 0, 4096, out _), Is.EqualTo(Errno.EIO), "ext4 never writes out of place");
                volume.Unmount();
            }

            Assert.That(newSize, Is.EqualTo(6 * 4096));
            TestImages.AssertClean(image);
            VariantImages.Debugfs(image, $"dump /f {Path.Combine(work, "out")}");
            byte[] want = new byte[6 * 4096];
            data.CopyTo(want, 0);
            block.CopyTo(want, 5 * 4096);
            Assert.That(File.ReadAllBytes(Path.Combine(work, "out")), Is.EqualTo(want));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// FUSE_IOMAP_F_DIRTY (ext4_set_iomap: ext4_inode_datasync_dirty): a block allocated by one
    /// BEGIN is still DIRTY when a later BEGIN maps it, until the allocation is committed; after
    /// the commit (what FSYNC does: a jbd2 transaction, or the write-back without a journal)
    /// the same mapping comes back clean; e2fsck -fn is clean afterwards.
    /// </summary>
    [TestCase(true)]
    [TestCase(false)]
    public void AMappingStaysDirtyUntilItsAllocationIsCommitted(bool journal)
    {
        string work = Directory.CreateTempSubdirectory("safemount-bridge-iomap-").FullName;
        try
        {
            var data = new byte[3 * 4096];
            new Random(5).NextBytes(data);   // not zeros: mkfs -d leaves zero blocks as holes
            string image = BridgeImage.Make(work, "16M", [("f", data)], "-b", "4096", "-O", journal ? "has_journal" : "^has_journal");
            uint ino = VariantImages.InodeOf(image, "/f");

            using (var opened = ImageVolume.Open(image, new Ext4OpenOptions { ReadOnly = false, CommitInterval = TimeSpan.FromHours(1) }))
            {
                Ext4Volume volume = opened.Volume;
                SafeFileHandle handle = opened.Handle;
                Assert.That(volume.IsJournaled, Is.EqualTo(journal));
                var fs = new Ext4FuseFileSystem(volume, NullLogger.Instance, handle);
                Assert.That(fs.IomapConfig(new RecordingIomapDevice(), long.MaxValue, out _), Is.EqualTo(Errno.None));

                Assert.That(fs.IomapBegin(Root, ino, ino, 0, 0, 4096, out FuseIomapMapping old, out _), Is.EqualTo(Errno.None));
                Assert.That((old.Type, old.Flags), Is.EqualTo((FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, FuseIomapFlags.None)), "nothing changed yet");

                Assert.That(fs.IomapBegin(Root, ino, ino, FuseIomapOp.FUSE_IOMAP_OP_WRITE, 5 * 4096, 4096, out FuseIomapMapping fresh, out _), Is.EqualTo(Errno.None));
                Assert.That((fresh.Type, fresh.Flags), Is.EqualTo((FuseIomapType.FUSE_IOMAP_TYPE_UNWRITTEN, FuseIomapFlags.FUSE_IOMAP_F_NEW | FuseIomapFlags.FUSE_IOMAP_F_DIRTY)));

                Assert.That(fs.IomapBegin(Root, ino, ino, FuseIomapOp.FUSE_IOMAP_OP_WRITE, 5 * 4096, 4096, out FuseIomapMapping again, out _), Is.EqualTo(Errno.None));
                Assert.That((again.Type, again.Addr, again.Flags), Is.EqualTo((FuseIomapType.FUSE_IOMAP_TYPE_UNWRITTEN, fresh.Addr, FuseIomapFlags.FUSE_IOMAP_F_DIRTY)),
                    "the same block, no longer new, but its allocation is not committed");
                Assert.That(fs.IomapBegin(Root, ino, ino, 0, 0, 4096, out FuseIomapMapping oldNow, out _), Is.EqualTo(Errno.None));
                Assert.That(oldNow.Flags, Is.EqualTo(FuseIomapFlags.FUSE_IOMAP_F_DIRTY), "volume-wide, so conservative: an untouched extent is DIRTY too");

                volume.Sync();
                Assert.That(volume.HasUndurableChanges, Is.False);
                Assert.That(fs.IomapBegin(Root, ino, ino, FuseIomapOp.FUSE_IOMAP_OP_WRITE, 5 * 4096, 4096, out FuseIomapMapping committed, out _), Is.EqualTo(Errno.None));
                Assert.That((committed.Type, committed.Addr, committed.Flags), Is.EqualTo((FuseIomapType.FUSE_IOMAP_TYPE_UNWRITTEN, fresh.Addr, FuseIomapFlags.None)), "committed: clean");
                volume.Unmount();
            }

            TestImages.AssertClean(image);
            Assert.That(VariantImages.Debugfs(image, "bmap /f 5").Trim(), Does.EndWith("(uninit)"), "the committed allocation is on disk, unwritten");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public void WithoutADeviceConfigIsEnodevAndAReadOnlyVolumeRefusesWrites()
    {
        string work = Directory.CreateTempSubdirectory("safemount-bridge-iomap-").FullName;
        try
        {
            string image = BridgeImage.Make(work, "8M", [("f", "x"u8.ToArray())]);
            uint ino = VariantImages.InodeOf(image, "/f");
            using var opened = ImageVolume.Open(image, new Ext4OpenOptions { ReadOnly = true });
            Ext4Volume volume = opened.Volume;
            SafeFileHandle handle = opened.Handle;
            var device = new RecordingIomapDevice();
            Assert.That(new Ext4FuseFileSystem(volume, NullLogger.Instance).IomapConfig(device, long.MaxValue, out _), Is.EqualTo(Errno.ENODEV));
            Assert.That(device.Calls, Is.Empty);
            var fs = new Ext4FuseFileSystem(volume, NullLogger.Instance, handle);
            Assert.That(fs.IomapConfig(device, long.MaxValue, out _), Is.EqualTo(Errno.None));
            Assert.That(fs.IomapBegin(Root, ino, ino, FuseIomapOp.FUSE_IOMAP_OP_WRITE, 4096, 10, out _, out _), Is.EqualTo(Errno.EROFS));
            Assert.That(fs.IomapIoend(Root, ino, ino, FuseIomapIoendFlags.FUSE_IOMAP_IOEND_UNWRITTEN, Errno.None, 0, 1, out _), Is.EqualTo(Errno.EROFS));
            Assert.That(fs.IomapBegin(Root, ino, ino, FuseIomapOp.FUSE_IOMAP_OP_REPORT, 0, 10, out FuseIomapMapping inline, out _), Is.EqualTo(Errno.None));
            Assert.That(inline.Type, Is.EqualTo(FuseIomapType.FUSE_IOMAP_TYPE_MAPPED), "a one-byte file in a block (no inline_data here)");
            Assert.That(fs.IomapBegin(Root, 1, 2, 0, 0, 10, out _, out _), Is.EqualTo(Errno.EISDIR), "the root directory has no iomap data path");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>§2.3: for an INLINE mapping the kernel moves the bytes with READ and WRITE
    /// that carry no file handle (fh 0); the bridge serves them by node id.</summary>
    [Test]
    public void InlineDataIsMappedInlineAndMovedByFhLessReadAndWrite()
    {
        string work = Directory.CreateTempSubdirectory("safemount-bridge-iomap-").FullName;
        try
        {
            string image = BridgeImage.Make(work, "8M", [("small", "inline bytes"u8.ToArray())], "-O", "inline_data");
            Assert.That(VariantImages.Debugfs(image, "stat /small"), Does.Contain("Size of inline data"));
            uint ino = VariantImages.InodeOf(image, "/small");
            using (var opened = ImageVolume.Open(image, new Ext4OpenOptions { ReadOnly = false }))
            {
                Ext4Volume volume = opened.Volume;
                SafeFileHandle handle = opened.Handle;
                var fs = new Ext4FuseFileSystem(volume, NullLogger.Instance, handle);
                Assert.That(fs.IomapConfig(new RecordingIomapDevice(), long.MaxValue, out _), Is.EqualTo(Errno.None));
                Assert.That(fs.IomapBegin(Root, ino, ino, 0, 2, 5, out FuseIomapMapping read, out FuseIomapMapping write), Is.EqualTo(Errno.None));
                Assert.That(read, Is.EqualTo(FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_INLINE, 0, volume.BlockSize)));
                Assert.That(write.Type, Is.EqualTo(FuseIomapType.FUSE_IOMAP_TYPE_PURE_OVERWRITE));
                var buffer = new byte[64];
                Assert.That(fs.Read(Root, ino, 0, 0, buffer, out int n), Is.EqualTo(Errno.None));
                Assert.That(buffer[..n], Is.EqualTo("inline bytes"u8.ToArray()));
                Assert.That(fs.Write(Root, ino, 0, 0, "INLINE"u8, FuseWriteFlags.None, 0, out uint written), Is.EqualTo(Errno.None));
                Assert.That(written, Is.EqualTo(6u));
            }

            TestImages.AssertClean(image);
            VariantImages.Debugfs(image, $"dump /small {Path.Combine(work, "out")}");
            Assert.That(File.ReadAllText(Path.Combine(work, "out")), Is.EqualTo("INLINE bytes"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
