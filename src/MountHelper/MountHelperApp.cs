using System.CommandLine;
using Safemount.Shared.CommandLine;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>
/// mount.safe.ext4: parse, check root, open and check the mountpoint and source (loop-attach a
/// regular file), talk to the service (HELLO, MOUNT_REQUEST, FUSE_FD), mount, wait READY.
/// Any failure after the mount detaches it (MNT_DETACH) and sends ABORT. Every error is one
/// line "mount.safe.ext4: SOURCE: reason".
/// </summary>
internal sealed partial class MountHelperApp
{
    public const string DefaultSocketPath = "/run/safemount/ext4.sock";
    public const string SocketVariable = "SAFEMOUNT_SOCKET";

    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly Func<string, string?> _getenv;
    private bool _verbose;

    public MountHelperApp(TextWriter stdout, TextWriter stderr, Func<string, string?> getenv)
    {
        _out = stdout;
        _err = stderr;
        _getenv = getenv;
    }

    /// <summary>Timeouts for the service conversation (tests shorten them).</summary>
    public ProtocolTimeouts Timeouts { get; init; } = ProtocolTimeouts.Default;

    public int Run(string[] argv)
    {
        HelperArguments args;
        try
        {
            args = HelperArguments.Parse(argv);
        }
        catch (UsageException e)
        {
            _err.WriteLine($"{HelpText.ProgramName}: {e.Message}");
            _err.WriteLine($"Try '{HelpText.ProgramName} --help' for more information.");
            return HelperExitCode.Usage;
        }

        if (args.Help || args.Version)
        {
            // Help wins over version when both are given, as before.
            RootCommand root = ProgramCommand.Create(HelpText.ProgramName, "mount an untrusted ext4 image through the safemount-ext4 service", HelpText.Usage);
            return ProgramCommand.Invoke(root, HelpText.ProgramName, [args.Help ? "--help" : "--version"], _out, _err);
        }

        _verbose = args.Verbose;
        try
        {
            MountPolicy policy = MountOptionPolicy.Apply(args.Options, args.Sloppy);
            foreach (string w in policy.Warnings)
            {
                Warn(args.Source, w);
            }

            if (ProcessInterop.GetEuid() != 0)
            {
                throw new MountFailureException("only root can mount safe.ext4 file systems", HelperExitCode.Usage);
            }

            if (args.Namespace is not null)
            {
                // setns(CLONE_NEWNS) is refused for a multithreaded process, and the .NET
                // runtime always has several threads.
                throw new MountFailureException("-N is not supported (setns into a mount namespace needs a single-threaded process)", HelperExitCode.Usage);
            }

            int status = MountSteps(args, policy);
            ReapSpawnedService(mountFailed: status != HelperExitCode.Success);
            return status;
        }
        catch (UsageException e)
        {
            _err.WriteLine($"{HelpText.ProgramName}: {e.Message}");
            ReapSpawnedService(mountFailed: true);
            return HelperExitCode.Usage;
        }
        catch (SourceMissingException e)
        {
            _err.WriteLine($"{HelpText.ProgramName}: {TextSanitizer.OneLine(args.Source)}: {TextSanitizer.OneLine(e.Message)}");
            return HelperExitCode.MountFailure;
        }
        catch (MountFailureException e)
        {
            _err.WriteLine($"{HelpText.ProgramName}: {TextSanitizer.OneLine(args.Source)}: {TextSanitizer.OneLine(e.Message)}");
            ReapSpawnedService(mountFailed: true);
            return e.ExitCode;
        }
        catch (ErrnoException e)
        {
            _err.WriteLine($"{HelpText.ProgramName}: {TextSanitizer.OneLine(args.Source)}: {TextSanitizer.OneLine(e.Message)}");
            ReapSpawnedService(mountFailed: true);
            return HelperExitCode.MountFailure;
        }
    }

    private void Say(string text)
    {
        if (_verbose)
        {
            _err.WriteLine($"{HelpText.ProgramName}: {text}");
        }
    }

    private void Warn(string source, string text) =>
        _err.WriteLine($"{HelpText.ProgramName}: {TextSanitizer.OneLine(source)}: warning: {text}");
}
