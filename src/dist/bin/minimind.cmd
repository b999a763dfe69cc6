@echo off
rem minimind4j (downloaded distribution) for Windows: runs `minimind <command> [options]` with the Java in JAVA_HOME or
rem on the PATH. Needs a JDK/JRE 17+ and nothing else: the jar, lib\ and the bundled demo\ sit beside bin\.
setlocal
set "MM_HOME=%~dp0.."
for %%i in ("%MM_HOME%") do set "MM_HOME=%%~fi"
set "MM_JAVA=java"
if defined JAVA_HOME if exist "%JAVA_HOME%\bin\java.exe" set "MM_JAVA=%JAVA_HOME%\bin\java.exe"
"%MM_JAVA%" -version >nul 2>&1
if errorlevel 1 (
  echo minimind: no java found: install a JDK 17 or newer ^(e.g. Eclipse Temurin^) or set JAVA_HOME 1>&2
  exit /b 1
)
rem Replies are UTF-8 (Chinese text): switch the console to code page 65001 for the run, then restore it.
set "MM_CP="
for /f "tokens=2 delims=:" %%c in ('chcp') do set "MM_CP=%%c"
if defined MM_CP set "MM_CP=%MM_CP: =%"
if defined MM_CP set "MM_CP=%MM_CP:.=%"
chcp 65001 >nul 2>&1
rem The same JVM flags as bin/minimind; --enable-native-access comes from the jar's manifest (Java 22+).
"%MM_JAVA%" -Xss4m "-Dminimind.home=%MM_HOME%" "-Dminimind.command=%~f0" %MINIMIND_JAVA_OPTS% -jar "%MM_HOME%\minimind4j.jar" %*
set "MM_RC=%ERRORLEVEL%"
if defined MM_CP chcp %MM_CP% >nul 2>&1
exit /b %MM_RC%
