using System.Runtime.InteropServices;
using Safemount.Shared.Interop;

namespace Safemount.Shared.Tests.Interop;

[TestFixture]
public sealed class LayoutTests
{
    [Test]
    public void NativeStructSizesMatchTheKernelHeaders()
    {
        Assert.That(Marshal.SizeOf<loop_info64>(), Is.EqualTo(232));
        Assert.That(Marshal.SizeOf<loop_config>(), Is.EqualTo(304));
        Assert.That(Marshal.OffsetOf<loop_config>(nameof(loop_config.info)).ToInt32(), Is.EqualTo(8));
        Assert.That(Marshal.OffsetOf<loop_info64>(nameof(loop_info64.lo_flags)).ToInt32(), Is.EqualTo(52));
        Assert.That(Marshal.SizeOf<PeerCredentials>(), Is.EqualTo(12));
        Assert.That(Marshal.SizeOf<StatxBuffer>(), Is.EqualTo(256));
    }

    [Test]
    public void ByteSizeOfRegularFile()
    {
        using SafeFd f = TestFds.TempFile(123456, out string path);
        Assert.That(FileInterop.GetByteSize(f), Is.EqualTo(123456UL));
        File.Delete(path);
    }

    [Test]
    public void ByteSizeOfACharDeviceIsENOTBLK()
    {
        using SafeFd f = FileInterop.Open("/dev/null", FileInterop.O_RDONLY);
        ErrnoException e = Assert.Throws<ErrnoException>(() => FileInterop.GetByteSize(f))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.ENOTBLK));
    }

    [Test]
    public void LoopAttachGivesABlockDeviceOfTheFileSize()
    {
        using SafeFd f = TestFds.TempFile(4 << 20, out string path);
        try
        {
            (SafeFd dev, string devPath) = LoopInterop.Attach(f, readOnly: true);
            using (dev)
            {
                Assert.That(devPath, Does.StartWith("/dev/loop"));
                Assert.That(FileInterop.FStat(dev).IsBlockDevice, Is.True);
                Assert.That(FileInterop.GetByteSize(dev), Is.EqualTo(4UL << 20));
                Assert.That(FileInterop.IsBlockDeviceReadOnly(dev), Is.True);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void PeerCredentialsOfASocketPairAreOurs()
    {
        (SafeFd a, SafeFd b) = TestFds.SeqPacketPair();
        using (a)
        using (b)
        {
            PeerCredentials c = SocketInterop.GetPeerCredentials(a);
            Assert.That(c.pid, Is.EqualTo(ProcessInterop.GetPid()));
            Assert.That(c.uid, Is.EqualTo(ProcessInterop.GetEuid()));
            Assert.That(SocketInterop.GetSocketType(a), Is.EqualTo(SocketInterop.SOCK_SEQPACKET));
        }
    }
}
