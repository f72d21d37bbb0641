using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using NUnit.Framework;
using Safemount.Ext4;
using Safemount.Ext4.Storage;
using Safemount.Ext4Service.Hosting;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Hosting;

/// <summary>
/// The engine over <see cref="DirectDataBlockDevice"/> against the engine over the plain
/// buffered <see cref="FileBlockDevice"/>: one seeded workload of file writes (aligned 1 MiB
/// runs, unaligned heads and tails, writes smaller than the alignment, overwrites, sparse
/// writes past EOF) on two copies of one mkfs image. Both images must be e2fsck clean, the
/// kernel's ext4 must read every file of the direct-I/O image as the model says, and the direct
/// path must really have carried the aligned bytes. Plus the EINVAL fallback: a direct write
/// the kernel refuses turns direct I/O off once and the data still lands.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class DirectDataBlockDeviceTests
{
    private const int Files = 6;

    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-direct-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => Directory.Delete(_work, recursive: true);

    [TestCase("journal", "-O", "has_journal")]
    [TestCase("nojournal", "-O", "^has_journal")]
    public void DirectAndBufferedWriteTheSameFiles(string name, params string[] mkfs)
    {
        TestEnvironment.RequireMountEnvironment();
        string dir = Path.Combine(_work, name);
        Directory.CreateDirectory(dir);
        string bufferedImage = Path.Combine(dir, "buffered.img"), directImage = Path.Combine(dir, "direct.img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", "-b", "4096", .. mkfs, bufferedImage, "64M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        File.Copy(bufferedImage, directImage);

        byte[][] model = Workload(11);
        RunWorkload(bufferedImage, model, direct: false, out _, out _);
        RunWorkload(directImage, model, direct: true, out long directBytes, out long bufferedBytes);

        TestImages.AssertClean(bufferedImage);
        TestImages.AssertClean(directImage);
        long total = model.Sum(m => (long)m.Length);
        Assert.Multiple(() =>
        {
            Assert.That(directBytes, Is.GreaterThan(total / 2), "most file data went through the O_DIRECT fd");
            Assert.That(bufferedBytes, Is.GreaterThan(0), "unaligned heads and tails went through the page cache");
        });
        Assert.That(KernelHashes(dir, directImage), Is.EqualTo(KernelHashes(dir, bufferedImage)), "the kernel reads the same files from both images");
        Assert.That(KernelHashes(dir, directImage), Is.EqualTo(model.Select((m, i) => $"f{i} {Convert.ToHexStringLower(SHA256.HashData(m))}").ToArray()),
            "the kernel reads what the model says");
    }

    [Test]
    public void RefusedDirectWriteFallsBackOnceAndTheDataLands()
    {
        string image = Path.Combine(_work, "fallback.img");
        byte[] data = new byte[3 << 20];
        new Random(5).NextBytes(data);
        using (FileStream f = File.Create(image))
        {
            f.SetLength(8 << 20);
        }

        var reasons = new List<string>();
        using SafeFd directFd = FileInterop.Open(image, FileInterop.O_RDWR | FileInterop.O_DIRECT);
        var buffered = new FileBlockDevice(File.OpenHandle(image, FileMode.Open, FileAccess.ReadWrite), 8 << 20, writable: true);

        // Alignment 1 sends even a write at byte 1 to the O_DIRECT fd, which the kernel refuses.
        using var device = new DirectDataBlockDevice(buffered, directFd, 1, reasons.Add);
        device.Arm();
        Assert.That(device.DirectActive);
        device.WriteData(1, data.AsSpan(0, 1 << 20));
        device.WriteData((1 << 20) + 1, data.AsSpan(1 << 20));
        device.Flush();

        Assert.Multiple(() =>
        {
            Assert.That(reasons, Has.Count.EqualTo(1), "reported once");
            Assert.That(reasons[0], Does.Contain("EINVAL"));
            Assert.That(device.DirectActive, Is.False);
            Assert.That(device.DirectBytes, Is.Zero);
            Assert.That(device.BufferedDataBytes, Is.EqualTo(data.Length));
        });
        byte[] back = new byte[data.Length];
        device.Read(1, back);
        Assert.That(back, Is.EqualTo(data));
    }

    [Test]
    public void SmallOrUnarmedWritesGoBuffered()
    {
        string image = Path.Combine(_work, "unarmed.img");
        using (FileStream f = File.Create(image))
        {
            f.SetLength(4 << 20);
        }

        using SafeFd directFd = FileInterop.Open(image, FileInterop.O_RDWR | FileInterop.O_DIRECT);
        var buffered = new FileBlockDevice(File.OpenHandle(image, FileMode.Open, FileAccess.ReadWrite), 4 << 20, writable: true);
        using var device = new DirectDataBlockDevice(buffered, directFd, DirectDataBlockDevice.AlignmentOf(directFd), _ => Assert.Fail("no direct write was tried"));
        byte[] data = new byte[1 << 20];
        new Random(6).NextBytes(data);
        device.WriteData(0, data);
        Assert.That((device.DirectBytes, device.BufferedDataBytes), Is.EqualTo((0L, (long)data.Length)));
        device.Arm();
        device.WriteData(1 << 20, data);
        Assert.That(device.DirectBytes, Is.EqualTo(data.Length));
        device.WriteData(2 << 20, data.AsSpan(0, DirectDataBlockDevice.DirectMinBytes - 4096));
        Assert.That((device.DirectBytes, device.BufferedDataBytes), Is.EqualTo(((long)data.Length, (long)data.Length + DirectDataBlockDevice.DirectMinBytes - 4096)),
            "a write below DirectMinBytes stays buffered");
        Assert.Throws<Ext4IOException>(() => device.WriteData((4 << 20) - 4096, data), "a range past the end is refused, not written");
        byte[] back = new byte[data.Length];
        device.Read(1 << 20, back);
        Assert.That(back, Is.EqualTo(data));
    }

    /// <summary>Final contents of <see cref="Files"/> files, and the order of writes that makes them.</summary>
    private static byte[][] Workload(int seed)
    {
        var rng = new Random(seed);
        var files = new byte[Files][];
        for (int i = 0; i < Files; i++)
        {
            files[i] = new byte[(i + 1) * 700_000 + rng.Next(4096)];
            rng.NextBytes(files[i]);
        }

        return files;
    }

    /// <summary>
    /// Writes each model file in pieces: for file i, first a hole-leaving write of its second
    /// half (sparse past EOF), then the first half in pieces of mixed sizes and offsets (1 MiB
    /// aligned runs, 100-byte and 5000-byte pieces), then one unaligned overwrite of the middle.
    /// </summary>
    private static void RunWorkload(string image, byte[][] model, bool direct, out long directBytes, out long bufferedBytes)
    {
        long length = new FileInfo(image).Length;
        using SafeFd? directFd = direct ? FileInterop.Open(image, FileInterop.O_RDWR | FileInterop.O_DIRECT) : null;
        var buffered = new FileBlockDevice(File.OpenHandle(image, FileMode.Open, FileAccess.ReadWrite), length, writable: true);
        var reasons = new List<string>();
        DirectDataBlockDevice? dd = directFd is null ? null : new DirectDataBlockDevice(buffered, directFd, DirectDataBlockDevice.AlignmentOf(directFd), reasons.Add);
        IWritableBlockDevice device = dd ?? (IWritableBlockDevice)buffered;
        try
        {
            using (Ext4Volume volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false }))
            {
                dd?.Arm();
                var rng = new Random(3);
                for (int i = 0; i < model.Length; i++)
                {
                    byte[] m = model[i];
                    Assert.That(volume.Create(2, System.Text.Encoding.ASCII.GetBytes($"f{i}"), 0x81A4, 0, 0, out Ext4Inode? created), Is.EqualTo(Ext4Errno.None));
                    uint ino = created!.Number;
                    int half = m.Length / 2;
                    Write(volume, ino, half, m.AsSpan(half));
                    int pos = 0;
                    while (pos < half)
                    {
                        int n = rng.Next(3) switch
                        {
                            0 => 1 << 20,
                            1 => 100,
                            _ => 5000,
                        };
                        n = Math.Min(n, half - pos);
                        Write(volume, ino, pos, m.AsSpan(pos, n));
                        pos += n;
                    }

                    int mid = m.Length / 3 + 7;
                    Write(volume, ino, mid, m.AsSpan(mid, Math.Min(3 << 20, m.Length - mid - 1)));
                }

                volume.Sync();
            }

            Assert.That(reasons, Is.Empty, "no direct write was refused");
            directBytes = dd?.DirectBytes ?? 0;
            bufferedBytes = dd?.BufferedDataBytes ?? 0;
        }
        finally
        {
            if (dd is not null)
            {
                dd.Dispose();
            }
            else
            {
                buffered.Dispose();
            }
        }
    }

    private static void Write(Ext4Volume volume, uint ino, long offset, ReadOnlySpan<byte> data)
    {
        Assert.That(volume.WriteFile(ino, offset, data, out int written), Is.EqualTo(Ext4Errno.None));
        Assert.That(written, Is.EqualTo(data.Length));
    }

    /// <summary>"fN sha256" per file, as the kernel's ext4 reads the image (read-only loop mount in a private namespace).</summary>
    private static string[] KernelHashes(string dir, string image)
    {
        string mnt = Path.Combine(dir, "mnt-kernel");
        Directory.CreateDirectory(mnt);
        string script = "mount -o ro,loop \"$1\" \"$2\" && cd \"$2\" && for f in f*; do echo \"$f $(sha256sum < \"$f\" | cut -d' ' -f1)\"; done; cd /; umount \"$2\"";
        CommandResult r = Command.Run("unshare", ["-m", "--propagation", "private", "/bin/bash", "-c", script, "hashes", image, mnt], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
    }
}
