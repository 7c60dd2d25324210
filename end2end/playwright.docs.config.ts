import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

// `make screenshot`: runs end2end/docs/ only (the README picture).
export default defineConfig({ ...base, testDir: "./docs" });
