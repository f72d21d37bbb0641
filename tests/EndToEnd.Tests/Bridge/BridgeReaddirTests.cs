using System.Buffers.Binary;
using System.Text;
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
/// READDIR on a read-write volume: the first READDIR after OPENDIR is answered from OPENDIR's
/// snapshot (the directory is read once per listing), a READDIR at offset 0 after that is a
/// rewinddir(3) and shows the directory as it is now (POSIX), and e2fsck -fn is clean after.
/// </summary>
[TestFixture]
public sealed class BridgeReaddirTests
{
    private static FuseRequestContext Root => new(1, 1, 0, 0, 1);

    [Test]
    public void TheFirstReaddirUsesTheOpendirSnapshotAndARewindRereads()
    {
        string work = Directory.CreateTempSubdirectory("safemount-bridge-readdir-").FullName;
        try
        {
            string image = BridgeImage.Make(work, "16M", [("early", "e"u8.ToArray())]);

            using (var opened = ImageVolume.Open(image, new Ext4OpenOptions { ReadOnly = false }))
            {
                Ext4Volume volume = opened.Volume;
                var fs = new Ext4FuseFileSystem(volume, NullLogger.Instance);
                Assert.That(fs.OpenDir(Root, NodeIds.FuseRoot, 0, out ulong fh, out _), Is.EqualTo(Errno.None));
                Assert.That(volume.Create(2, "late"u8, 0x1A4, 0, 0, out _), Is.EqualTo(Ext4Errno.None));

                var first = Names(fs, fh);
                Assert.That(first, Does.Contain("early"));
                Assert.That(first, Does.Not.Contain("late"), "served from the OPENDIR snapshot");

                var rewound = Names(fs, fh);
                Assert.That(rewound, Does.Contain("early").And.Contain("late"), "rewinddir shows the directory as it is now");
                fs.ReleaseDir(NodeIds.FuseRoot, fh);
            }

            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The names of one READDIR (not plus) from offset 0, parsed from the fuse_dirent records.</summary>
    private static List<string> Names(Ext4FuseFileSystem fs, ulong fh)
    {
        var buffer = new byte[64 * 1024];
        var writer = new FuseDirectoryWriter(buffer, false, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Assert.That(fs.ReadDir(Root, NodeIds.FuseRoot, fh, 0, false, ref writer), Is.EqualTo(Errno.None));
        var names = new List<string>();
        for (int at = 0; at < writer.Length;)
        {
            // struct fuse_dirent: ino u64, off u64, namelen u32, type u32, name; records 8-byte aligned.
            int nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(at + 16));
            names.Add(Encoding.UTF8.GetString(buffer, at + 24, nameLength));
            at += (24 + nameLength + 7) & ~7;
        }

        return names;
    }
}
