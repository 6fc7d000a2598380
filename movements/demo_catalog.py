"""The fixed part of the demo data: a small electronics retailer's catalog."""

from decimal import Decimal

# category -> (cost range in BRL, {brand: [models]})
CATALOG: dict[str, tuple[tuple[int, int], dict[str, list[str]]]] = {
    "Smartphones": (
        (600, 5000),
        {
            "Samsung": ["Galaxy A15", "Galaxy A35", "Galaxy S24"],
            "Motorola": ["Moto G54", "Moto G84", "Edge 50"],
            "Xiaomi": ["Redmi Note 13", "Poco X6", "Redmi 13C"],
            "Apple": ["iPhone 15", "iPhone 14"],
        },
    ),
    "Notebooks": (
        (2000, 7000),
        {
            "Dell": ["Inspiron 15", "Vostro 3520", "Latitude 5440"],
            "Lenovo": ["IdeaPad 3", "ThinkPad E14", "LOQ 15"],
            "Acer": ["Aspire 5", "Nitro V15"],
            "Asus": ["Vivobook 15", "TUF Gaming F15"],
            "Apple": ["MacBook Air M2", "MacBook Pro M3"],
        },
    ),
    "Monitors": (
        (500, 2500),
        {
            "LG": ["UltraGear 24GN60R", "29WQ600"],
            "Samsung": ["Odyssey G3", "T350"],
            "AOC": ["24G2", "Hero 27"],
            "Dell": ["P2422H", "SE2422H"],
        },
    ),
    "Peripherals": (
        (40, 700),
        {
            "Logitech": ["MX Master 3S", "K380", "G203", "MK270"],
            "Redragon": ["Kumara K552", "Cobra M711"],
            "HyperX": ["Alloy Origins", "Cloud Stinger 2"],
        },
    ),
    "Networking": (
        (80, 600),
        {
            "TP-Link": ["Archer C6", "Deco M4", "TL-SG108"],
            "Intelbras": ["Action RF 1200", "Twibi Giga"],
            "Mercusys": ["MR30G"],
        },
    ),
    "Storage": (
        (40, 900),
        {
            "Kingston": ["A400 480GB", "NV2 1TB", "DataTraveler 64GB"],
            "SanDisk": ["Ultra 128GB", "Extreme Pro 256GB"],
            "Seagate": ["BarraCuda 2TB"],
            "WD": ["Blue SN580 1TB", "Elements 2TB"],
        },
    ),
    "Printers": (
        (400, 1800),
        {
            "HP": ["DeskJet 2774", "LaserJet M111w", "Smart Tank 581"],
            "Epson": ["EcoTank L3250", "EcoTank L4260"],
            "Brother": ["DCP-L2540DW"],
        },
    ),
    "Audio": (
        (100, 2000),
        {
            "JBL": ["Flip 6", "Tune 520BT", "Go 3"],
            "Sony": ["WH-1000XM5", "WH-CH520"],
            "Edifier": ["R1280DB"],
        },
    ),
    "Power": (
        (150, 1500),
        {
            "SMS": ["Net 4+ 600VA"],
            "Intelbras": ["XNB 720VA"],
            "APC": ["Back-UPS 1200VA"],
            "Clamper": ["Energia 8 tomadas"],
        },
    ),
    "Gaming": (
        (200, 3500),
        {
            "Sony": ["DualSense", "PlayStation 5 Slim"],
            "Microsoft": ["Xbox Series S", "Xbox Wireless Controller"],
            "Nintendo": ["Switch OLED", "Joy-Con"],
        },
    ),
    "Tablets": (
        (700, 4000),
        {
            "Samsung": ["Galaxy Tab A9", "Galaxy Tab S9 FE"],
            "Apple": ["iPad 10"],
            "Lenovo": ["Tab M10"],
        },
    ),
    "Cables & Adapters": (
        (15, 200),
        {
            "Ugreen": ["USB-C Cable 1m", "USB-C Hub 5-in-1", "HDMI Adapter"],
            "Baseus": ["65W Charger", "Lightning Cable"],
            "Multilaser": ["HDMI Cable 2m"],
        },
    ),
}

VARIANTS = ["Black", "White", "Blue", "Grey", "Silver", "Green", "Red", "Graphite"]

SUPPLIERS = [
    "Alfa Distribuidora de Eletrônicos Ltda",
    "Beta Tech Comércio Ltda",
    "Central Informática Atacado",
    "Delta Importadora S.A.",
    "Eletro Sul Distribuição",
    "Fênix Componentes Ltda",
    "Global Mix Atacadista",
    "Horizonte Tecnologia",
    "Ipiranga Distribuidora",
    "Jequitibá Comercial Ltda",
    "Kappa Logística e Comércio",
    "Litoral Eletrônicos",
    "Mantiqueira Informática",
    "Norte Digital Atacado",
    "Oeste Paulista Distribuição",
    "Paraná Suprimentos de TI",
    "Quartzo Importação",
    "Rio Branco Eletroeletrônicos",
    "Serra Azul Comércio",
    "Tropical Tech Distribuidora",
]

DEMO_USERS = {
    "demo_admin": "Admin",
    "demo_manager": "Manager",
    "demo_operator": "Operator",
    "demo_analyst": "Analyst",
}

CENT = Decimal("0.01")
