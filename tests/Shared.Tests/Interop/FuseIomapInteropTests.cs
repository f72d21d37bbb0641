using Safemount.Shared.Interop;

namespace Safemount.Shared.Tests.Interop;

/// <summary>The fuse-iomap ioctls on a real /dev/fuse fd of this kernel (FUSE-PROTOCOL.md §2.6):
/// a mainline kernel knows none of them (ENOTTY); a fuse-iomap kernel answers the probe.</summary>
[TestFixture]
public sealed class FuseIomapInteropTests
{
    [Test]
    public void TheProbeAnswersEnottyOrTheSupportFlags()
    {
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        Errno rc = FuseIomapInterop.QuerySupport(fuse, out ulong flags);
        Assert.That(rc, Is.EqualTo(Errno.ENOTTY).Or.EqualTo(Errno.None));
        if (rc == Errno.ENOTTY)
        {
            Assert.That(flags, Is.Zero);
            Assert.That(FuseIomapInterop.AddIomap(fuse), Is.EqualTo(Errno.ENOTTY));
            Assert.That(FuseIomapInterop.SetBlockSize(fuse, 1, 4096), Is.EqualTo(Errno.ENOTTY));
        }
        else
        {
            Assert.That(flags & ~(fuse_iomap_support.FUSE_IOMAP_SUPPORT_FILEIO | fuse_iomap_support.FUSE_IOMAP_SUPPORT_ATOMIC), Is.Zero, "only the v7 bits");
        }
    }

    [Test]
    public void BackingOpenOnAnUnmountedFdIsRefused()
    {
        // Mainline checks the connection first (no connection yet: EPERM, FUSE-PROTOCOL.md §1.6 S3);
        // an iomap kernel refuses an unnegotiated connection with EPERM too (§2.2 step 6).
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        using var devNull = File.OpenHandle("/dev/null");
        Errno rc = FuseIomapInterop.BackingOpenIomap(fuse, devNull, out uint id);
        Assert.That(rc, Is.Not.EqualTo(Errno.None));
        Assert.That(id, Is.Zero);
        TestContext.Out.WriteLine($"FUSE_DEV_IOC_BACKING_OPEN (type IOMAP) on an unmounted fd: {rc}");
    }
}
