using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Safemount.Ext4;
using Safemount.Ext4.Storage;
using Safemount.Ext4Service.Bridge;
using Safemount.Ext4Service.Sandbox;
using Safemount.Fuse;
using Safemount.Shared.Interop;
using Safemount.Shared.CommandLine;
using Safemount.Shared.Protocol;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// One mount, from the helper's HELLO to the kernel's DESTROY (ARCHITECTURE.md "Mount
/// sequence"): handshake, MOUNT request, open and validate the volume, answer the mount
/// parameters or a one-line reason, take the /dev/fuse fd, serve FUSE until unmount.
/// </summary>
/// <remarks>
/// Ownership: the endpoint owns the socket and (until disposed) the fds it received; the
/// device fd is owned by the <see cref="MountRequest"/>, the /dev/fuse fd by this object.
/// </remarks>
internal sealed class MountService
{
    /// <summary>Worker threads reading /dev/fuse: requests are handled in parallel from the start.</summary>
    private const int FuseWorkers = 4;

    private readonly MountContextLogger _logger;
    private readonly MountTimeline _timeline;
    private readonly LoggerStartup _logging;

    /// <param name="logging">Owner of the logger factory behind <paramref name="logger"/>; the
    /// factory is built once READY is sent, and written out before an early exit.</param>
    public MountService(MountContextLogger logger, MountTimeline timeline, LoggerStartup logging)
    {
        _logger = logger;
        _timeline = timeline;
        _logging = logging;
    }

    /// <summary>Runs the whole mount; returns the process exit code (0 after a clean unmount).</summary>
    public int Run(ServiceEndpoint endpoint)
    {
        PeerCredentials peer = SocketInterop.GetPeerCredentials(endpoint.Socket);
        _logger.Context = $"helper pid {peer.pid}, uid {peer.uid}";
        uint version = endpoint.Handshake();
        _timeline.Mark("hello");
        ServiceLog.Connected(_logger, version);

        using MountRequest request = endpoint.ReceiveMountRequest();
        _timeline.Mark("request");

        // From here on every line names the device and the mount point.
        _logger.Context = $"{TextSanitizer.OneLine(request.SourcePath)} on {TextSanitizer.OneLine(request.Mountpoint)}";
        ServiceLog.MountRequested(_logger, request.SourcePath, request.Mountpoint, request.Options,
            request.ReadOnly ? "read-only" : "read-write", request.DeviceSize);

        // The device fd is here: confine before the engine reads a byte of it.
        try
        {
            SandboxReport sandbox = ServiceSandbox.Confine(request.DirectDevice is { } second
                ? [endpoint.Socket, request.Device, second]
                : [endpoint.Socket, request.Device]);
            _timeline.Mark("sandbox");
            LogSandbox(sandbox);
        }
        catch (SandboxException e)
        {
            return Refuse(endpoint, request, ProtocolErrorCode.Internal, e.Message);
        }

        bool sloppy = (endpoint.HelperFlags & HelloFlags.Sloppy) != 0;
        FsOptions? options = FsOptions.Parse(request.Options, out string? optionError, sloppy);
        if (options is null)
        {
            return Refuse(endpoint, request, ProtocolErrorCode.InvalidOptions, optionError!);
        }

        // The engine reads and writes through .NET's RandomAccess (pread/pwrite); the
        // SafeFileHandle borrows the fd, which stays owned by the request. The helper opened the
        // device read-write exactly when it asks for a read-write mount. With a DIRECT_DEVICE fd
        // (also owned by the request) large file data writes go through it instead
        // (DirectDataBlockDevice), once ArmDirectIo has checked the volume.
        using var handle = new SafeFileHandle(request.Device.DangerousGetHandle(), ownsHandle: false);
        var buffered = new FileBlockDevice(handle, checked((long)request.DeviceSize), writable: !request.ReadOnly);
        DirectDataBlockDevice? direct = request.DirectDevice is { } directFd
            ? new DirectDataBlockDevice(buffered, directFd, DirectDataBlockDevice.AlignmentOf(directFd),
                reason => ServiceLog.DirectIoOff(_logger, request.SourcePath, reason))
            : null;
        IWritableBlockDevice device = direct ?? (IWritableBlockDevice)buffered;
        Ext4Volume volume;
        Ext4Inode root;
        try
        {
            // noload/norecovery serves a dirty journal un-replayed, as the kernel does (read-only
            // only; the engine warns). A feature the write path lacks serves read-only with a warning.
            volume = Ext4Volume.Open(device, new Ext4OpenOptions
            {
                ReadOnly = request.ReadOnly,
                ReplayJournal = !options.NoLoad,
                Errors = options.Errors switch
                {
                    "continue" => Ext4ErrorBehavior.Continue,
                    "remount-ro" => Ext4ErrorBehavior.RemountReadOnly,
                    "panic" => Ext4ErrorBehavior.Panic,
                    _ => null,
                },
                CommitInterval = TimeSpan.FromSeconds(options.CommitSeconds ?? 0),
                CacheBytes = options.CacheBytes ?? Ext4OpenOptions.DefaultCacheBytes,
            });
            _timeline.Mark("volume open");
            root = volume.ReadInode(NodeIds.Ext4Root);
            if (!volume.IsReadOnly && volume.CleanupOrphans(loadFromDisk: true) is int released and > 0)
            {
                ServiceLog.OrphansReleased(_logger, request.SourcePath, released);
            }

            _timeline.Mark("root inode, orphans");
        }
        catch (Exception e) when (RefusalCode(e) is { } code)
        {
            return Refuse(endpoint, request, code, e.Message);
        }

        if (!root.IsDirectory)
        {
            volume.Dispose();
            return Refuse(endpoint, request, ProtocolErrorCode.CorruptFilesystem, "the root inode is not a directory");
        }

        if (direct is not null)
        {
            ArmDirectIo(direct, volume, request.SourcePath);
        }

        using (volume)
        {
            int exit = Serve(endpoint, request, volume, root, options);
            if (direct is not null)
            {
                ServiceLog.DirectIoTotals(_logger, request.SourcePath, direct.DirectBytes, direct.BufferedDataBytes);
            }

            return exit;
        }
    }

    /// <summary>
    /// Direct I/O for file data only where a data block never shares a page-cache page with
    /// metadata (block size ≥ page size; see <see cref="DirectDataBlockDevice"/>) and the volume
    /// is writable.
    /// </summary>
    private void ArmDirectIo(DirectDataBlockDevice direct, Ext4Volume volume, string source)
    {
        int page = Environment.SystemPageSize;
        if (volume.IsReadOnly)
        {
            ServiceLog.DirectIoUnused(_logger, source, "the volume is served read-only");
        }
        else if (volume.BlockSize < page)
        {
            ServiceLog.DirectIoUnused(_logger, source, $"block size {volume.BlockSize} is below the page size {page}");
        }
        else
        {
            direct.Arm();
            ServiceLog.DirectIoOn(_logger, source, direct.Alignment);
        }
    }

    private int Serve(ServiceEndpoint endpoint, MountRequest request, Ext4Volume volume, Ext4Inode root, FsOptions options)
    {
        var warnings = new List<string>(volume.Warnings);
        foreach (string dropped in options.Dropped)
        {
            warnings.Add($"ignoring unknown mount option '{dropped}' (sloppy mount)");
        }

        string mode = volume.IsReadOnly ? "read-only" : "read-write";
        ServiceLog.VolumeOpened(_logger, request.SourcePath, volume.Label, volume.Uuid, volume.BlockSize, mode, volume.CacheBytes >> 10);
        foreach (string w in warnings)
        {
            ServiceLog.VolumeWarning(_logger, request.SourcePath, w);
        }

        endpoint.SendMountAccepted(new MountAccepted
        {
            FsType = "fuseblk",
            Subtype = "safe.ext4",
            RootMode = root.Mode,
            BlockSize = volume.BlockSize,
            Label = volume.Label,
            Uuid = volume.Uuid.ToByteArray(bigEndian: true),
            ReadOnly = volume.IsReadOnly,
            Warnings = warnings,
        });
        _timeline.Mark("accepted");

        using SafeFd fuseFd = endpoint.ReceiveFuseFd(out FuseFdFlags fdFlags);
        _timeline.Mark("fuse fd");

        // fuse-iomap (FUSE-PROTOCOL.md §2.2) only when the helper opted the fd in and iomap= does
        // not say off; the kernel still decides (INIT minor 99 with bit 43), else mainline.
        bool allowIomap = (fdFlags & FuseFdFlags.IomapAdded) != 0 && options.Iomap != IomapMode.Off;
        var fs = new Ext4FuseFileSystem(volume, _logger, allowIomap ? request.Device : null);
        var session = new FuseSession(new FuseDeviceFd(fuseFd), fs, new FuseSessionOptions
        {
            WorkerThreads = FuseWorkers,
            EntryTimeout = TimeSpan.FromHours(1),
            AttrTimeout = TimeSpan.FromHours(1),
            MaxPages = 256,
            // The kernel truncates utimes and its own stamps to this before they reach the cache
            // it owns under the writeback cache (regular files' mtime, ctime).
            TimeGranularityNs = volume.TimestampGranularityNs,
            AllowIomap = allowIomap,
        }, _logger);

        // The bridge's UPSERT/INVAL/DEV_INVAL go to this session (it refuses them unless iomap was negotiated).
        fs.IomapNotifier = session;

        // READY goes out once the kernel's FUSE_INIT has been answered; the helper's mount(2)
        // returns only then (FUSE_DEV_IOC_SYNC_INIT), and mount(8) only after READY.
        session.Initialized += _ =>
        {
            endpoint.SendReady();
            _timeline.Mark("fuse init, ready");
            ServiceLog.Ready(_logger, request.SourcePath, request.Mountpoint);

            // Only now, with the mount complete, is the logger factory built (LoggerStartup):
            // everything logged so far is kept until it is ready; the setup times follow then,
            // with the factory's own time.
            _logging.StartBuilding(build =>
            {
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    ServiceLog.SetupTimes(_logger, _timeline.Format(("logger factory", build.Start, build.End)));
                }
            });
        };

        // The helper may give up after FUSE_FD_ACCEPTED (its mount failed): then no INIT will
        // ever come, so the watcher ends the process. After READY the helper simply hangs up.
        var watcher = new Thread(() => WatchHelper(endpoint, session)) { IsBackground = true, Name = "helper-watch" };
        endpoint.SendFuseFdAccepted();
        watcher.Start();
        session.Run();
        ServiceLog.SessionEnded(_logger, request.SourcePath);
        return 0;
    }

    private void LogSandbox(SandboxReport sandbox)
    {
        foreach (string fd in sandbox.ClosedFds)
        {
            SandboxLog.ClosedInheritedFd(_logger, fd);
        }

        if (sandbox.LandlockUnavailable is { } reason)
        {
            SandboxLog.LandlockUnavailable(_logger, reason);
        }

        if (sandbox.BoundingSetLeft != 0)
        {
            SandboxLog.BoundingSetKept(_logger, sandbox.BoundingSetLeft);
        }

        SandboxLog.Confined(_logger, sandbox.Uid, sandbox.Gid, sandbox.SwitchedIdentity ? " (switched from root)" : string.Empty,
            sandbox.NoFileLimit, sandbox.NProcLimit, sandbox.LandlockAbi, sandbox.SeccompInstructions);
    }

    private void WatchHelper(ServiceEndpoint endpoint, FuseSession session)
    {
        try
        {
            HelperEnd end = endpoint.WaitForHelperEnd();
            if (end.Aborted || session.InitResult is null)
            {
                ServiceLog.Aborted(_logger, end.Reason ?? "the helper closed the connection before the mount was ready");
                _logging.Dispose();
                Environment.Exit(1);
            }
        }
        catch (ProtocolException e)
        {
            ServiceLog.SetupFailed(_logger, e.Message);
            if (session.InitResult is null)
            {
                _logging.Dispose();
                Environment.Exit(1);
            }
        }
    }

    /// <summary>The ERROR code for an exception that refuses the mount; null for anything else
    /// (a bug, which must not be reported as a property of the image).</summary>
    private static ProtocolErrorCode? RefusalCode(Exception e) => e switch
    {
        Ext4MountException => ProtocolErrorCode.MountRefused,
        Ext4CorruptionException => ProtocolErrorCode.CorruptFilesystem,
        Ext4IOException => ProtocolErrorCode.IoError,
        _ => null,
    };

    private int Refuse(ServiceEndpoint endpoint, MountRequest request, ProtocolErrorCode code, string reason)
    {
        ServiceLog.MountRefused(_logger, request.SourcePath, reason);
        endpoint.SendError(code, reason);
        return 1;
    }
}
