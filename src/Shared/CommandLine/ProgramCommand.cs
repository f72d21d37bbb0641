using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace Safemount.Shared.CommandLine;

/// <summary>
/// The System.CommandLine root command of a safemount binary: "-h/--help" prints the
/// program's own man-page-style text (not System.CommandLine's generated one, so that it can
/// document mount options, environment and exit statuses), "-V/--version" prints
/// <see cref="ProductVersion.Line"/>. Both exit 0, as util-linux programs do.
/// </summary>
public static class ProgramCommand
{
    public static RootCommand Create(string program, string description, string helpText)
    {
        RootCommand root = new(description);
        for (int i = root.Options.Count - 1; i >= 0; i--)
        {
            if (root.Options[i] is HelpOption or VersionOption)
            {
                root.Options.RemoveAt(i);
            }
        }

        root.Options.Add(new HelpOption("--help", "-h") { Action = new FixedTextAction(helpText) });
        root.Options.Add(new VersionOption("--version", "-V") { Action = new FixedTextAction(ProductVersion.Line(program) + "\n") });
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/> against <paramref name="root"/>, writing to
    /// the given streams. A parse error is reported as util-linux programs do ("PROGRAM: error",
    /// then "Try 'PROGRAM --help' for more information.") on <paramref name="error"/>, exit 1.</summary>
    public static int Invoke(RootCommand root, string program, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (ParseError e in parsed.Errors)
            {
                error.WriteLine($"{program}: {e.Message}");
            }

            error.WriteLine($"Try '{program} --help' for more information.");
            return 1;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
