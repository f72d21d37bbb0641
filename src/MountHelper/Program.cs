namespace Safemount.MountHelper;

internal static class Program
{
    private static int Main(string[] args) =>
        new MountHelperApp(Console.Out, Console.Error, Environment.GetEnvironmentVariable).Run(args);
}
