using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>
/// The helper's command line, as mount(8) passes it to external helpers:
/// <c>mount.safe.ext4 SOURCE DIR [-sfnv] [-N namespace] [-o options] [-t type]</c> (mount(8)
/// "EXTERNAL HELPERS"), plus -h/--help and -V/--version.
/// Options may come before or after the positionals; "-o" may repeat (joined with commas);
/// single-letter flags may be grouped ("-nv"), and "-oOPTS" / "-NNS" / "-tTYPE" are accepted.
/// "-t" must name this helper's type (libmount passes it for "type.subtype" helpers).
/// The grammar is getopt(3)'s, as mount(8) expects of helpers: "-o --help" is an option list,
/// "-nv" two flags, errors read "invalid option -- 'x'". System.CommandLine (whose grammar and
/// messages differ) only renders --help and --version, through
/// <see cref="Safemount.Shared.CommandLine.ProgramCommand"/>.
/// </summary>
internal sealed record HelperArguments
{
    public string Source { get; init; } = string.Empty;

    public string Mountpoint { get; init; } = string.Empty;

    public string Options { get; init; } = string.Empty;

    /// <summary>-n: do not write /etc/mtab (nothing to do: the helper never writes it).</summary>
    public bool NoMtab { get; init; }

    public bool Verbose { get; init; }

    /// <summary>-s: tolerate unknown or malformed options (drop with a warning).</summary>
    public bool Sloppy { get; init; }

    /// <summary>-f: everything but the mount syscall.</summary>
    public bool Fake { get; init; }

    /// <summary>-N: mount namespace as a pid or a path.</summary>
    public string? Namespace { get; init; }

    /// <summary>The file system type every "-t" must name.</summary>
    public const string FsType = "safe.ext4";

    public bool Help { get; init; }

    public bool Version { get; init; }

    public static HelperArguments Parse(IReadOnlyList<string> args)
    {
        List<string> positionals = new();
        List<string> options = new();
        bool verbose = false, sloppy = false, fake = false, noMtab = false, help = false, version = false;
        string? ns = null;
        string? type = null;
        bool endOfOptions = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (endOfOptions || a.Length < 2 || a[0] != '-')
            {
                positionals.Add(a);
                continue;
            }

            switch (a)
            {
                case "--":
                    endOfOptions = true;
                    continue;
                case "--help":
                    help = true;
                    continue;
                case "--version":
                    version = true;
                    continue;
            }

            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unrecognized option '{a}'");
            }

            for (int j = 1; j < a.Length; j++)
            {
                char c = a[j];
                switch (c)
                {
                    case 'n': noMtab = true; break;
                    case 'v': verbose = true; break;
                    case 's': sloppy = true; break;
                    case 'f': fake = true; break;
                    case 'h': help = true; break;
                    case 'V': version = true; break;
                    case 'o':
                    case 'N':
                    case 't':
                        string value;
                        if (j + 1 < a.Length)
                        {
                            value = a[(j + 1)..];
                        }
                        else if (i + 1 < args.Count)
                        {
                            value = args[++i];
                        }
                        else
                        {
                            throw new UsageException($"option requires an argument -- '{c}'");
                        }

                        if (c == 'o')
                        {
                            options.Add(value);
                        }
                        else if (c == 't')
                        {
                            type = value;
                        }
                        else
                        {
                            ns = value;
                        }

                        j = a.Length;
                        break;
                    default:
                        throw new UsageException($"invalid option -- '{c}'");
                }
            }
        }

        if (help || version)
        {
            return new HelperArguments { Help = help, Version = version };
        }

        if (positionals.Count < 2)
        {
            throw new UsageException(positionals.Count == 0 ? "missing SOURCE and DIR" : "missing DIR");
        }

        if (positionals.Count > 2)
        {
            throw new UsageException($"unexpected argument '{positionals[2]}'");
        }

        if (positionals[0].Length == 0 || positionals[1].Length == 0)
        {
            throw new UsageException("SOURCE and DIR must not be empty");
        }

        if (type is not null && type != FsType && type != "fuse." + FsType && type != "fuseblk." + FsType)
        {
            throw new UsageException($"-t {TextSanitizer.OneLine(type)}: this helper mounts type {FsType} only");
        }

        if (ns is { Length: 0 })
        {
            throw new UsageException("-N needs a pid or a path");
        }

        return new HelperArguments
        {
            Source = positionals[0],
            Mountpoint = positionals[1],
            Options = string.Join(',', options.Where(o => o.Length > 0)),
            NoMtab = noMtab,
            Verbose = verbose,
            Sloppy = sloppy,
            Fake = fake,
            Namespace = ns,
        };
    }
}
