using System.Reflection;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.CommandLine;

/// <summary>
/// The "--version" line of both binaries: "PROGRAM (safemount) X.Y.Z, protocol N", the style of
/// util-linux ("mount from util-linux 2.38.1"). X.Y.Z is the assembly's informational version
/// (the MSBuild Version property) without the "+commit" suffix the SDK may append.
/// </summary>
public static class ProductVersion
{
    public static string Number
    {
        get
        {
            string? v = typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            if (string.IsNullOrEmpty(v))
            {
                return "unknown";
            }

            int plus = v.IndexOf('+');
            return plus < 0 ? v : v[..plus];
        }
    }

    public static string Line(string program) =>
        ProtocolVersion.Min == ProtocolVersion.Max
            ? $"{program} (safemount) {Number}, protocol {ProtocolVersion.Max}"
            : $"{program} (safemount) {Number}, protocols {ProtocolVersion.Min}-{ProtocolVersion.Max}";
}
