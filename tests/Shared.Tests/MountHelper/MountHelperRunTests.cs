using Safemount.MountHelper;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.MountHelper;

/// <summary>
/// The real helper code path (loop attach of a temp image, connect via SAFEMOUNT_SOCKET,
/// handshake, MOUNT_REQUEST with the loop device fd) against a ServiceEndpoint in the test.
/// None of these reach the mount syscall, so nothing needs unmounting; loop devices are
/// autoclear and go away when the last fd closes.
/// </summary>
[TestFixture]
public sealed class MountHelperRunTests
{
    private string _dir = string.Empty;
    private string _socketPath = string.Empty;
    private string _image = string.Empty;
    private string _mountpoint = string.Empty;
    private SafeFd? _listener;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("safemount-helper-").FullName.TrimEnd('/');
        _socketPath = Path.Combine(_dir, "ext4.sock");
        _image = Path.Combine(_dir, "disk.img");
        _mountpoint = Path.Combine(_dir, "mnt");
        Directory.CreateDirectory(_mountpoint);
        using (FileStream f = File.Create(_image))
        {
            f.SetLength(8 << 20);
        }

        _listener = SocketInterop.Socket(SocketInterop.AF_UNIX, SocketInterop.SOCK_SEQPACKET);
        SocketInterop.Bind(_listener, _socketPath);
        SocketInterop.Listen(_listener, 4);
    }

    [TearDown]
    public void TearDown()
    {
        _listener?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (int Code, string Err) RunHelper(params string[] extra) => RunHelperWith(null, extra);

    private (int Code, string Err) RunHelperWith(string? servicePath, params string[] extra)
    {
        StringWriter err = new();
        MountHelperApp app = new(TextWriter.Null, err, name => name switch
        {
            MountHelperApp.SocketVariable => _socketPath,
            MountHelperApp.ServiceVariable => servicePath,
            _ => null,
        })
        {
            Timeouts = new ProtocolTimeouts { Step = TimeSpan.FromSeconds(5), MountReply = TimeSpan.FromSeconds(5), Ready = TimeSpan.FromSeconds(5) },
        };
        int code = app.Run(new[] { _image, _mountpoint }.Concat(extra).ToArray());
        return (code, err.ToString());
    }

    private PeerThread Service(Action<ServiceEndpoint> body) => new(() =>
    {
        using ServiceEndpoint ep = new(SocketInterop.Accept(_listener!), new ProtocolTimeouts { Step = TimeSpan.FromSeconds(5) });
        ep.Handshake();
        body(ep);
    });

    [Test]
    public void ServiceErrorExits32AndNamesTheDevice()
    {
        string? options = null;
        bool wasBlockDevice = false;
        bool readOnly = false;
        PeerThread service = Service(ep =>
        {
            using MountRequest req = ep.ReceiveMountRequest();
            options = req.Options;
            readOnly = req.ReadOnly;
            wasBlockDevice = FileInterop.FStat(req.Device).IsBlockDevice;
            ep.SendError(ProtocolErrorCode.CorruptFilesystem, "bad superblock magic 0x0000");
        });
        (int code, string err) = RunHelper("-o", "ro,errors=continue,nofail");
        Assert.That(service.Join(), Is.Null);
        Assert.That(code, Is.EqualTo(32));
        Assert.That(err, Is.EqualTo($"mount.safe.ext4: {_image}: bad superblock magic 0x0000\n"));
        Assert.That(options, Is.EqualTo("errors=continue"));
        Assert.That(readOnly, Is.True);
        Assert.That(wasBlockDevice, Is.True, "a regular-file source reaches the service as a loop block device");
    }

    [Test]
    public void ValueOutsideTheAllowlistAbortsAndExits32()
    {
        HelperEnd end = default;
        PeerThread service = Service(ep =>
        {
            using MountRequest req = ep.ReceiveMountRequest();
            ep.SendMountAccepted(new MountAccepted { RootMode = 0x81A4 });
            end = ep.WaitForHelperEnd(TimeSpan.FromSeconds(5));
        });
        (int code, string err) = RunHelper();
        Assert.That(service.Join(), Is.Null);
        Assert.That(code, Is.EqualTo(32));
        Assert.That(err, Does.StartWith($"mount.safe.ext4: {_image}: service gave root mode 0100644"));
        Assert.That(end.Aborted, Is.True);
    }

    [Test]
    public void FakeMountDoesEverythingButMount()
    {
        HelperEnd end = default;
        StatxResult fuse = default;
        PeerThread service = Service(ep =>
        {
            using MountRequest req = ep.ReceiveMountRequest();
            ep.SendMountAccepted(new MountAccepted { Warnings = new[] { "journal will be replayed" } });
            using SafeFd f = ep.ReceiveFuseFd();
            fuse = FileInterop.FStat(f);
            ep.SendFuseFdAccepted();
            end = ep.WaitForHelperEnd(TimeSpan.FromSeconds(5));
        });
        (int code, string err) = RunHelper("-f", "-v");
        Assert.That(service.Join(), Is.Null);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(fuse.RdevMajor == 10 && fuse.RdevMinor == 229, Is.True);
        Assert.That(end, Is.EqualTo(new HelperEnd(true, "fake mount (-f)")));
        Assert.That(err, Does.Contain("warning: journal will be replayed"));
        Assert.That(err, Does.Contain("rootmode=40755,user_id=0,group_id=0,default_permissions,allow_other,blksize=4096"));
    }

    [Test]
    public void VerboseNamesEveryProtocolStepInOrder()
    {
        PeerThread service = Service(ep =>
        {
            using MountRequest req = ep.ReceiveMountRequest();
            ep.SendMountAccepted(new MountAccepted());
            using SafeFd f = ep.ReceiveFuseFd();
            ep.SendFuseFdAccepted();
            ep.WaitForHelperEnd(TimeSpan.FromSeconds(5));
        });
        (int code, string err) = RunHelper("-fv", "-o", "ro");
        Assert.That(service.Join(), Is.Null);
        Assert.That(code, Is.EqualTo(0), err);
        string[] steps =
        [
            $"connected to {_socketPath}",
            "HELLO: protocol 1-1",
            "HELLO_REPLY: protocol 1",
            "MOUNT_REQUEST: /dev/loop",
            "device fd passed (SCM_RIGHTS)",
            "MOUNT_ACCEPTED: fuseblk.safe.ext4",
            "FUSE_FD: /dev/fuse fd",
            "FUSE_FD_ACCEPTED",
            "fake mount (-f): would mount /dev/loop",
        ];
        int at = 0;
        foreach (string step in steps)
        {
            int i = err.IndexOf(step, at, StringComparison.Ordinal);
            Assert.That(i, Is.GreaterThanOrEqualTo(0), $"step '{step}' missing or out of order in:\n{err}");
            at = i + step.Length;
        }

        Assert.That(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.All.StartWith("mount.safe.ext4: "));
    }

    [Test]
    public void QuietWithoutVerbose()
    {
        PeerThread service = Service(ep =>
        {
            using MountRequest req = ep.ReceiveMountRequest();
            ep.SendMountAccepted(new MountAccepted());
            using SafeFd f = ep.ReceiveFuseFd();
            ep.SendFuseFdAccepted();
            ep.WaitForHelperEnd(TimeSpan.FromSeconds(5));
        });
        (int code, string err) = RunHelper("-f", "-o", "ro");
        Assert.That(service.Join(), Is.Null);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Is.Empty);
    }

    [Test]
    public void MissingSocketAndMissingServiceBinaryExits32()
    {
        if (Directory.Exists("/run/systemd/system"))
        {
            Assert.Ignore("systemd is init here: a missing socket starts a transient unit instead of a direct spawn");
        }

        // No socket: the helper starts the service itself, and the binary it is told to start is missing.
        _listener!.Dispose();
        File.Delete(_socketPath);
        string missing = Path.Combine(_dir, "no-such-service");
        (int code, string err) = RunHelperWith(missing);
        Assert.That(code, Is.EqualTo(32));
        Assert.That(err, Does.StartWith($"mount.safe.ext4: {_image}: cannot start the safemount-ext4 service {missing}: posix_spawn {missing}: No such file or directory (ENOENT)"));
    }

    [Test]
    public void SocketWithoutListenerAndMissingServiceBinaryExits32()
    {
        if (Directory.Exists("/run/systemd/system"))
        {
            Assert.Ignore("systemd is init here: a refused connection starts a transient unit instead of a direct spawn");
        }

        // A socket file nobody listens on (ECONNREFUSED) is treated like an absent one.
        _listener!.Dispose();
        string missing = Path.Combine(_dir, "no-such-service");
        (int code, string err) = RunHelperWith(missing);
        Assert.That(code, Is.EqualTo(32));
        Assert.That(err, Does.Contain($"cannot start the safemount-ext4 service {missing}"));
    }

    [Test]
    public void MountpointThatIsAFileExits32()
    {
        StringWriter err = new();
        int code = new MountHelperApp(TextWriter.Null, err, _ => _socketPath).Run(new[] { _image, _image });
        Assert.That(code, Is.EqualTo(32));
        Assert.That(err.ToString(), Does.Contain("mount point").And.Contain("Not a directory"));
    }

    /// <summary>The kernel's FUSE_DEV_IOC_IOMAP_SUPPORT answer on a fresh /dev/fuse fd.</summary>
    private static Errno KernelIomapSupport()
    {
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        return FuseIomapInterop.QuerySupport(fuse, out _);
    }

    [Test]
    public void IomapOnIsRefusedBeforeMountWhenTheKernelHasNoIomap()
    {
        Errno support = KernelIomapSupport();
        if (support == Errno.None)
        {
            Assert.Ignore("this kernel has fuse-iomap: iomap=on is not refused here");
        }

        HelperEnd end = default;
        PeerThread service = Service(ep =>
        {
            using MountRequest req = ep.ReceiveMountRequest();
            ep.SendMountAccepted(new MountAccepted());
            end = ep.WaitForHelperEnd(TimeSpan.FromSeconds(5));
        });
        (int code, string err) = RunHelper("-o", "ro,iomap=on");
        Assert.That(service.Join(), Is.Null);
        Assert.That(code, Is.EqualTo(32));
        Assert.That(err, Is.EqualTo($"mount.safe.ext4: {_image}: iomap=on but the kernel cannot use fuse-iomap: FUSE_DEV_IOC_IOMAP_SUPPORT: {support}{(support == Errno.ENOTTY ? " (mainline kernel without fuse-iomap)" : string.Empty)}\n"));
        Assert.That(end.Aborted, Is.True, "the service is told, before any FUSE_FD");
        Assert.That(end.Reason, Does.StartWith("iomap=on: FUSE_DEV_IOC_IOMAP_SUPPORT"));
    }

    [TestCase("ro,iomap=auto", "fuse-iomap unavailable (FUSE_DEV_IOC_IOMAP_SUPPORT: ")]
    [TestCase("ro", "fuse-iomap unavailable (FUSE_DEV_IOC_IOMAP_SUPPORT: ")]
    [TestCase("ro,iomap=on,iomap=off", "iomap=off: mainline FUSE data path")]
    public void AutoFallsBackAndOffNeverAsksAndTheServiceHearsIt(string options, string said)
    {
        if (KernelIomapSupport() == Errno.None && !options.EndsWith("off", StringComparison.Ordinal))
        {
            Assert.Ignore("this kernel has fuse-iomap: auto takes it");
        }

        FuseFdFlags flags = (FuseFdFlags)0xFF;
        string? forwarded = null;
        PeerThread service = Service(ep =>
        {
            using MountRequest req = ep.ReceiveMountRequest();
            forwarded = req.Options;
            ep.SendMountAccepted(new MountAccepted());
            using SafeFd f = ep.ReceiveFuseFd(out flags);
            ep.SendFuseFdAccepted();
            ep.WaitForHelperEnd(TimeSpan.FromSeconds(5));
        });
        (int code, string err) = RunHelper("-fv", "-o", options);
        Assert.That(service.Join(), Is.Null);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Does.Contain(said));
        Assert.That(flags, Is.EqualTo(FuseFdFlags.None), "FUSE_FD without IOMAP_ADDED");
        Assert.That(forwarded, Is.EqualTo(options.Replace("ro,", string.Empty, StringComparison.Ordinal).Replace("ro", string.Empty, StringComparison.Ordinal)), "iomap= reaches the service too");
    }
}

