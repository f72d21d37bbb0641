namespace Safemount.MountHelper; internal static class Program { private static int Main(string[] args) => 1; }
