public enum Gateway {
    public static func main() {}
}
